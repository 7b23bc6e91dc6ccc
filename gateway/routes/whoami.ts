// Who am I: the key's ApiKey, role and permissions (any valid key; handy to check a key works).
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES } from '../access/roles.ts';
import { operation } from '../http/operation.ts';

export const whoami = operation({
  id: 'whoami',
  method: 'get',
  path: '/v1/whoami',
  summary: "The calling key's ApiKey, role and permissions",
  tag: 'access',
  responses: {
    200: {
      description: 'The caller.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['apiKey', 'keyId', 'role', 'permissions', 'origins'],
        properties: {
          apiKey: { type: 'string', description: 'Name of the ApiKey resource.' },
          keyId: { type: 'string', description: "First characters of the key's SHA-256 (never the key)." },
          role: { type: 'string', enum: [...ROLES] },
          permissions: { type: 'array', items: { type: 'string', enum: Object.keys(PERMISSIONS) } },
          origins: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
  async handler({ caller }) {
    return { body: { apiKey: caller.key, keyId: caller.keyId, role: caller.role, permissions: [...ROLE_PERMISSIONS[caller.role]], origins: [...caller.origins] } };
  },
});
