// API group uspa.tech, version v1alpha1: the TypeScript types of the kinds and the CRDs that
// crds/ is generated from (`npm run gen:crds`).
import type { CustomResourceDefinition } from './meta.ts';
import { activationCrd } from './activation.ts';
import { apiKeyCrd } from './apikey.ts';
import { personalizationCrd } from './personalization.ts';
import { privacyRequestCrd } from './privacyrequest.ts';
import { pipelineCrd } from './pipeline.ts';
import { segmentCrd } from './segment.ts';
import { sourceCrd } from './source.ts';

export * from './meta.ts';
export * from './source.ts';
export * from './pipeline.ts';
export * from './segment.ts';
export * from './activation.ts';
export * from './apikey.ts';
export * from './privacyrequest.ts';
export * from './personalization.ts';

export interface KindInfo {
  kind: 'Source' | 'Pipeline' | 'Segment' | 'Activation' | 'ApiKey' | 'PrivacyRequest' | 'Personalization';
  plural: string;
  singular: string;
  crd: CustomResourceDefinition;
}

function info(crd: CustomResourceDefinition): KindInfo {
  const { kind, plural, singular } = crd.spec.names;
  return { kind: kind as KindInfo['kind'], plural, singular, crd };
}

/** The kinds of uspa.tech/v1alpha1, in dependency order (a Pipeline reads Sources, an Activation a Segment; an ApiKey is served by a namespace's Pipelines' gateway; a PrivacyRequest erases from a namespace's stores). */
export const KINDS: readonly KindInfo[] = [info(sourceCrd), info(pipelineCrd), info(segmentCrd), info(activationCrd), info(apiKeyCrd), info(privacyRequestCrd), info(personalizationCrd)];
