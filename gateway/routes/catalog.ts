// The product catalog through the API: items loaded in batches (valid items are stored even when
// others in the batch are refused, each refusal naming its item and field), read one by one, and
// hidden. `uspa import --catalog` loads files through the same call.
import { CATALOG_ITEM_INPUT_SCHEMA, MAX_CATALOG_ITEM_ID, parseCatalogItem } from '../../api/catalog.ts';
import { catalogRow } from '../../lib/personalization/catalog-rows.ts';
import type { GatewayContext } from '../context.ts';
import { CATALOG_COLUMNS, storedItem, type CatalogRowOut } from '../decisions/catalog.ts';
import { notFound } from '../http/errors.ts';
import { operation, type JsonSchema, type Operation } from '../http/operation.ts';

export const MAX_ITEMS_PER_CALL = 1000;

const ITEM_PARAM = { type: 'object', required: ['item'], properties: { item: { type: 'string', minLength: 1, maxLength: MAX_CATALOG_ITEM_ID, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'The item id (product_id or sku).' } } } as const;

const STORED_ITEM: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'category', 'tags', 'available', 'attributes', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    category: { type: 'array', items: { type: 'string' }, description: 'Broadest first.' },
    price: { type: 'number' },
    currency: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    url: { type: 'string' },
    image: { type: 'string' },
    available: { type: 'boolean' },
    attributes: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    updatedAt: { type: 'string', format: 'date-time', description: 'The API\'s clock for API and file loads; the event time for a catalog event.' },
  },
};

export function catalogOperations(ctx: GatewayContext): Operation[] {
  const upsert = operation<Record<string, never>, Record<string, never>, { items: unknown[] }>({
    id: 'upsertCatalogItems',
    method: 'put',
    path: '/v1/catalog/items',
    summary: 'Load or update catalog items (1 to 1000 per call)',
    description:
      'Each item replaces the stored item of the same id. Valid items are stored even when others in the call are refused: `rejected` lists those, by index, with every problem at its field. Decisions see the change within seconds. Events `Product Updated` (and `Product Created`) with the same properties keep the catalog current from a Source too.',
    tag: 'catalog',
    permission: 'catalog:write',
    audit: 'write',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      // Items are checked one by one below, so one bad item does not refuse the call.
      properties: { items: { type: 'array', minItems: 1, maxItems: MAX_ITEMS_PER_CALL, items: { type: 'object', description: `A catalog item: ${Object.keys(CATALOG_ITEM_INPUT_SCHEMA.properties).join(', ')}.` } } },
    },
    responses: {
      200: {
        description: 'What was stored and what was refused.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['upserted', 'rejected'],
          properties: {
            upserted: { type: 'integer', minimum: 0 },
            rejected: {
              type: 'array',
              items: { type: 'object', additionalProperties: false, required: ['index', 'problems'], properties: { index: { type: 'integer', minimum: 0 }, id: { type: 'string' }, problems: { type: 'array', items: { type: 'string' } } } },
            },
          },
        },
      },
    },
    async handler({ body, subject }) {
      const now = new Date().toISOString();
      const rows = [];
      const rejected: Array<{ index: number; id?: string; problems: string[] }> = [];
      for (const [index, value] of body.items.entries()) {
        const { item, problems } = parseCatalogItem(value, `body.items[${index}]`);
        if (item) rows.push(catalogRow(item, 'api', now));
        else {
          const id = (value as { id?: unknown }).id;
          rejected.push({ index, ...(typeof id === 'string' ? { id: id.slice(0, MAX_CATALOG_ITEM_ID) } : {}), problems: problems! });
        }
      }
      if (rows.length) await ctx.warehouse.insert('catalog_items', rows);
      subject(`catalog:${rows.length}`);
      return { body: { upserted: rows.length, rejected } };
    },
  });

  const get = operation<{ item: string }>({
    id: 'getCatalogItem',
    method: 'get',
    path: '/v1/catalog/items/{item}',
    summary: 'One catalog item',
    tag: 'catalog',
    permission: 'catalog:read',
    params: ITEM_PARAM as never,
    responses: { 200: { description: 'The item.', schema: STORED_ITEM } },
    async handler({ params }) {
      const [row] = await ctx.warehouse.query<CatalogRowOut>(`SELECT ${CATALOG_COLUMNS} FROM {db}.catalog_items FINAL WHERE id = {id:String}`, { id: params.item });
      if (!row || Number(row.deleted) === 1) throw notFound('no catalog item has this id', 'path.item');
      return { body: storedItem(row) };
    },
  });

  const remove = operation<{ item: string }>({
    id: 'deleteCatalogItem',
    method: 'delete',
    path: '/v1/catalog/items/{item}',
    summary: 'Remove an item from the catalog',
    description: 'It is no longer recommended or given to templates; a later load or catalog event of the same id brings it back.',
    tag: 'catalog',
    permission: 'catalog:write',
    audit: 'write',
    params: ITEM_PARAM as never,
    responses: { 204: { description: 'Removed.' } },
    async handler({ params, subject }) {
      const [row] = await ctx.warehouse.query<CatalogRowOut>(`SELECT ${CATALOG_COLUMNS} FROM {db}.catalog_items FINAL WHERE id = {id:String}`, { id: params.item });
      if (!row || Number(row.deleted) === 1) throw notFound('no catalog item has this id', 'path.item');
      subject(`catalog:${params.item}`);
      await ctx.warehouse.insert('catalog_items', [{ ...row, attributes: row.attributes, deleted: 1, origin: 'api', updated_at: new Date().toISOString().replace('T', ' ').replace('Z', ''), ingested_at: undefined }]);
      return { status: 204, body: undefined };
    },
  });
  return [upsert, get, remove];
}
