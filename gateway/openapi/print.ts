// The OpenAPI document without engines: the same operations the API serves, built against a
// context that refuses every use, so a route module that touches its engines while declaring its
// operations (instead of in a handler) fails here. Prints the document, or with --client <file>
// writes the typed client's types made from it (npm run gen:client).
//
//   node --import tsx gateway/openapi/print.ts [--client api/client/openapi.ts]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GatewayContext } from '../context.ts';
import { allOperations } from '../routes/index.ts';
import { openApiDocument } from './document.ts';

/** A GatewayContext whose every property read throws: operations must use it in handlers only. */
export function offlineContext(): GatewayContext {
  return new Proxy({} as GatewayContext, {
    get(_target, property) {
      throw new Error(`a route module read ctx.${String(property)} while building its operations: use the context inside handlers only, so the OpenAPI document can be made without engines`);
    },
  });
}

export function offlineDocument(): Record<string, unknown> {
  return openApiDocument(allOperations(offlineContext()));
}

export const CLIENT_HEADER = `// GENERATED from the API's OpenAPI document by openapi-typescript — do not edit.
// Regenerate with \`npm run gen:client\` after changing an operation (test/api/contract.test.ts fails until then).
`;

/** The TypeScript types of the document (paths, components, operations), as committed in api/client/openapi.ts. */
export async function clientTypes(document: Record<string, unknown> = offlineDocument()): Promise<string> {
  // A dev dependency: loaded only when generating, never by the running API.
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(document as never, { alphabetize: true });
  return CLIENT_HEADER + astToString(ast);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { client: { type: 'string' } } });
  if (values.client) writeFileSync(values.client, await clientTypes());
  else process.stdout.write(`${JSON.stringify(offlineDocument(), null, 2)}\n`);
}
