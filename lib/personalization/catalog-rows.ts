// A catalog item as a catalog_items row (api/tables/personalization.ts): what the API, the importer
// and the pipeline's catalog events write.
import type { CatalogItem } from '../../api/catalog.ts';
import { chTime } from '../clickhouse.ts';

export interface CatalogRow {
  id: string;
  title: string;
  category: string[];
  price: number | null;
  currency: string;
  tags: string[];
  url: string;
  image: string;
  available: number;
  attributes: string;
  origin: string;
  deleted: number;
  updated_at: string;
}

export function catalogRow(item: CatalogItem, origin: string, updatedAt: string): CatalogRow {
  return {
    id: item.id,
    title: item.title,
    category: item.category,
    price: item.price ?? null,
    currency: item.currency ?? '',
    tags: item.tags,
    url: item.url ?? '',
    image: item.image ?? '',
    available: item.available ? 1 : 0,
    attributes: JSON.stringify(item.attributes),
    origin,
    deleted: 0,
    updated_at: chTime(updatedAt),
  };
}

