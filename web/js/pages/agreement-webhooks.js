// /agreements/{license}/webhooks: for the agreement's super admins, the endpoints its events are
// sent to (web/js/webhooks.js does the work; a partner organization's admins have the same on
// their organization's page).

import { webhooksCard } from '../webhooks.js';
import { agreementTab } from './agreement.js';

export default {
  title: 'webhooks.agreementPageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({
      param,
      part: 'webhooks',
      title: 'webhooks.agreementTitle',
      show: (agreement, base) => webhooksCard({ base, intro: 'webhooks.agreementIntro', introParams: { customer: agreement.customer?.name ?? '' } }),
    });
  },
};
