#!/usr/bin/env node
// The countersign command. This file is in the repository, not built, because npm links workspace bins
// before the root postinstall builds dist/ and skips a bin whose target does not exist yet: pointing the
// bin at dist/ directly made `npx countersign` fail after the first `npm install` of a fresh clone.
import '../dist/cli/main.js';
