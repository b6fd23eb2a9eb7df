import type { Command } from 'commander';

/** The options every admin command takes to find the database the server uses. */
export function dataOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory (default ./.countersign, or COUNTERSIGN_DATA_DIR)')
    .option('--config <file>', 'config file (YAML)');
}

export const collect = (value: string, prev: string[]) => [...prev, value];
