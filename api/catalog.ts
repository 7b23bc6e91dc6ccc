// The product catalog's item: what a file row, an API body and a `Product Updated` event all become
// before they are stored (catalog_items, api/tables/catalog.ts). One validator for all three, so an
// item refused by the API is refused by the importer with the same words.
import { Ajv, type ValidateFunction } from 'ajv';
import { describeAjvErrors } from './problems.ts';

export interface CatalogItem {
  /** product_id (or sku): what events name in properties.product_id. */
  id: string;
  title: string;
  /** Broadest first, e.g. ["Shoes", "Running"]; a file may give "Shoes > Running". */
  category: string[];
  price?: number;
  currency?: string;
  tags: string[];
  url?: string;
  image?: string;
  /** Unavailable items are never recommended. Default true. */
  available: boolean;
  /** Anything else a template may show (brand, colour …): string, number or boolean values. */
  attributes: Record<string, string | number | boolean>;
}

export const MAX_CATALOG_ITEM_ID = 512;
export const MAX_CATEGORY_DEPTH = 8;
export const MAX_TAGS = 50;
export const MAX_ATTRIBUTES = 50;

/** Events that upsert the item named by their properties (Segment's e-commerce spec names the first). */
export const CATALOG_EVENTS = ['Product Updated', 'Product Created', 'Product Added To Catalog'] as const;

const TEXT = { type: 'string', maxLength: 4096 } as const;

/** The item as a client sends it (category as an array or "A > B", available defaulted). */
export const CATALOG_ITEM_INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: MAX_CATALOG_ITEM_ID, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'product_id (or sku), as events name it' },
    title: { type: 'string', minLength: 1, maxLength: 1024 },
    category: {
      description: 'Category path, broadest first: ["Shoes", "Running"] or "Shoes > Running"',
      oneOf: [
        { type: 'string', maxLength: 1024 },
        { type: 'array', maxItems: MAX_CATEGORY_DEPTH, items: { type: 'string', minLength: 1, maxLength: 128 } },
      ],
    },
    price: { type: 'number', minimum: 0, maximum: 1e12 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    tags: { type: 'array', maxItems: MAX_TAGS, items: { type: 'string', minLength: 1, maxLength: 128 } },
    url: { ...TEXT, pattern: '^(https?://|/)' },
    image: { ...TEXT, pattern: '^(https?://|/)' },
    available: { type: 'boolean' },
    attributes: {
      type: 'object',
      maxProperties: MAX_ATTRIBUTES,
      propertyNames: { maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 1024 },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
let validate: ValidateFunction | undefined;

/** Category words as interests use them: trimmed, lower case. */
export function interestKey(word: string): string {
  return word.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** The interest keys of an item: each level of its category path, then its tags; lower case, no repeats. */
export function itemInterestKeys(item: { readonly category: readonly string[]; readonly tags: readonly string[] }): string[] {
  return [...new Set([...item.category, ...item.tags].map(interestKey).filter(Boolean))];
}

/** "Shoes > Running" or ["Shoes", "Running"] → ["Shoes", "Running"] (empty parts dropped). */
export function categoryPath(value: unknown): string[] {
  const parts = typeof value === 'string' ? value.split(/\s*[>/|]\s*/) : Array.isArray(value) ? value.map(String) : [];
  return parts.map((p) => p.trim()).filter(Boolean).slice(0, MAX_CATEGORY_DEPTH);
}

/**
 * An input item → the stored item, or every problem with its path (`where` prefixes it, e.g.
 * "items[3]" or "row 12"). Never throws.
 */
export function parseCatalogItem(value: unknown, where = ''): { item?: CatalogItem; problems?: string[] } {
  validate ??= ajv.compile(CATALOG_ITEM_INPUT_SCHEMA);
  if (!validate(value)) return { problems: describeAjvErrors(validate.errors, where) };
  const v = value as { id: string; title: string; category?: string | string[]; price?: number; currency?: string; tags?: string[]; url?: string; image?: string; available?: boolean; attributes?: Record<string, string | number | boolean> };
  if (typeof v.price === 'number' && !Number.isFinite(v.price)) return { problems: [`${where ? where + '.' : ''}price: must be a finite number`] };
  const item: CatalogItem = {
    id: v.id,
    title: v.title,
    category: categoryPath(v.category),
    tags: [...new Set((v.tags ?? []).map((t) => t.trim()).filter(Boolean))],
    available: v.available ?? true,
    attributes: v.attributes ?? {},
  };
  if (v.price !== undefined) item.price = v.price;
  if (v.currency !== undefined) item.currency = v.currency;
  if (v.url !== undefined) item.url = v.url;
  if (v.image !== undefined) item.image = v.image;
  return { item };
}

/**
 * A catalog event's properties → an input item (Segment's e-commerce names: product_id or sku,
 * name, category, price, tags, url, image_url, available or in_stock); what `parseCatalogItem` then checks.
 */
export function itemFromEventProperties(p: Record<string, unknown>): unknown {
  const known = new Set(['product_id', 'sku', 'id', 'name', 'title', 'category', 'price', 'currency', 'tags', 'url', 'image_url', 'image', 'available', 'in_stock']);
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!known.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) attributes[k] = v;
  const pick = (...keys: string[]) => keys.map((k) => p[k]).find((v) => v !== undefined && v !== null);
  const out: Record<string, unknown> = { id: pick('product_id', 'sku', 'id'), title: pick('name', 'title') };
  for (const [key, value] of [['category', pick('category')], ['price', pick('price')], ['currency', pick('currency')], ['tags', pick('tags')], ['url', pick('url')], ['image', pick('image_url', 'image')], ['available', pick('available', 'in_stock')]] as const) {
    if (value !== undefined) out[key] = value;
  }
  if (Object.keys(attributes).length) out.attributes = Object.fromEntries(Object.entries(attributes).slice(0, MAX_ATTRIBUTES));
  return out;
}
