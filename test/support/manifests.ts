// Custom resources the engine tests apply again and again.

/** A web Source and a Pipeline "main" reading it, with short batch waits so tests see rows quickly. */
export const SOURCE_AND_PIPELINE = `apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec: { type: web }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec:
  sources: [web]
  batch: { maxWaitMs: 100, profileIntervalMs: 200 }
`;
