#!/usr/bin/env -S node --max-semi-space-size=8
// The countersign command. This file is in the repository, not built, because npm links workspace bins
// before the root postinstall builds dist/ and skips a bin whose target does not exist yet: pointing the
// bin at dist/ directly made `npx countersign` fail after the first `npm install` of a fresh clone.
// --max-semi-space-size=8 (MB): V8's young generation otherwise grows to 2 x 16 MB in a burst and keeps it
// while the gateway stays busy enough (10,000 event streams' keep-alives are); capped, 10,000 parked
// agents fit in 250 MB (docs/operations.md, "Memory"). deploy/Dockerfile and deploy/countersign.service
// start node with the same flags (test/deploy-files.test.ts).
import '../dist/cli/main.js';
