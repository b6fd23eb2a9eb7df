import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import type { SlackConfig } from '../../config/slack-schema.js';

/**
 * The bot's Web API client. It never retries or waits on its own (`retries: 0`; with
 * `rejectRateLimitedCalls` a 429 throws a RateLimitedError carrying `retryAfter` in seconds instead of the
 * client sleeping it out and calling again): a 429 or a 5xx is thrown to the durable consumer, which
 * retries with back-off, no earlier than Slack's Retry-After (slackRetryAfterMs, RetryLater), and
 * dead-letters after its attempts. So Retry-After is honoured once, by the consumer, never twice.
 */
export function slackWebClient(cfg: Pick<SlackConfig, 'api_url' | 'botToken'>, token = cfg.botToken): WebClient {
  return new WebClient(token, {
    slackApiUrl: cfg.api_url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // Method names are ours, never a URL: every call goes to the configured API.
    allowAbsoluteUrls: false,
    timeout: 10_000,
    logLevel: LogLevel.ERROR,
  });
}

/** Slack's Retry-After of a rate-limited call, in milliseconds; null for any other failure. */
export function slackRetryAfterMs(e: unknown): number | null {
  const err = e as { code?: string; retryAfter?: number };
  return err?.code === ErrorCode.RateLimitedError && typeof err.retryAfter === 'number' ? err.retryAfter * 1000 : null;
}

/** What a failed call comes to, in words for the delivery record (never the request, which may hold the token). */
export function describeSlackError(e: unknown): string {
  const err = e as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  switch (err?.code) {
    case ErrorCode.RateLimitedError:
      return `rate limited by Slack (retry after ${err.retryAfter ?? '?'} s)`;
    case ErrorCode.HTTPError:
      return `Slack answered HTTP ${err.statusCode ?? '?'}`;
    case ErrorCode.PlatformError:
      return `Slack refused the call: ${err.data?.error ?? 'unknown error'}`;
    case ErrorCode.RequestError:
      return `could not reach Slack: ${err.message ?? 'request failed'}`;
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
