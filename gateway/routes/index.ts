// Every operation the API serves, by area. The router and the OpenAPI document are made from this list.
import type { GatewayContext } from '../context.ts';
import type { Operation } from '../http/operation.ts';
import { auditOperations } from './audit.ts';
import { catalogOperations } from './catalog.ts';
import { decisionOperations } from './decisions.ts';
import { consentOperations } from './consent.ts';
import { segmentOperations } from './segments.ts';
import { profileOperations } from './profiles.ts';
import { recommendationOperations } from './recommendations.ts';
import { whoami } from './whoami.ts';
import { pipelineOperations } from './pipelines.ts';
import { privacyOperations } from './privacy.ts';
import { overviewOperations } from './overview.ts';
import { sourceOperations } from './sources.ts';
import { campaignOperations } from './campaigns.ts';
import { identityOperations } from './identities.ts';
import { modelOperations } from './models.ts';
import { resourceOperations } from './resources.ts';

export function allOperations(ctx: GatewayContext): Operation[] {
  return [whoami, ...auditOperations(ctx), ...segmentOperations(ctx), ...profileOperations(ctx), ...consentOperations(ctx), ...recommendationOperations(ctx), ...decisionOperations(ctx), ...catalogOperations(ctx), ...resourceOperations(ctx), ...privacyOperations(ctx), ...pipelineOperations(ctx), ...overviewOperations(ctx), ...sourceOperations(ctx), ...campaignOperations(ctx), ...identityOperations(ctx), ...modelOperations(ctx)];
}
