import { ReviewSettings, reviewSettings } from '../../domain/actions/review-settings.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });

/** What the reviewer console needs to offer when deciding (deny reason presets, grant bounds). */
export const reviewSettingsRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/review-settings',
    operationId: 'getReviewSettings',
    summary: 'Deny reason presets and the bounds of a standing grant, as configured',
    tags: ['reviews'],
    auth: 'person',
    refusal: 'review settings are for people',
    responses: {
      200: { description: 'The settings', schema: ReviewSettings },
      401: err('Not authenticated'),
      403: err('Not a person'),
    },
    handler: async ({ deps }) => reviewSettings(deps),
  }),
];
