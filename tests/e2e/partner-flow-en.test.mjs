// Browser test of a partner relationship's life, in English: the new employee of a reseller
// registers their organization on an agreement whose customer approves partners first; the
// customer approves it narrowed (keyboard only), the partner works within it, the customer
// narrows it further, and the access ends with its last day. See lib/partner-flow.mjs.
//
//   cd tests/e2e && npm ci && node --test partner-flow-en.test.mjs

import { partnerFlow } from './lib/partner-flow.mjs';

partnerFlow('en');
