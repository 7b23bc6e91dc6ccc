// `uspa privacy verify`: a receipt is good when its signature matches and, for every store it
// lists, the person's rows counted now are no more than the receipt says were left.
import type { ErasureReceipt } from '../../api/privacy.ts';
import type { Warehouse } from '../clickhouse.ts';
import { countRows, storesOf } from './erase.ts';
import { receiptSignatureValid } from './receipt.ts';
import { personValues } from './schema.ts';

export interface StoreCheck {
  table: string;
  /** What the receipt says was left. */
  after: number;
  /** Counted now; undefined when the table is gone. */
  now?: number;
  ok: boolean;
}

export interface ReceiptCheck {
  signature: boolean;
  stores: StoreCheck[];
  ok: boolean;
}

export async function verifyReceipt(warehouse: Warehouse, receipt: ErasureReceipt, key: string | Buffer): Promise<ReceiptCheck> {
  const signature = receiptSignatureValid(receipt, key);
  const person = personValues(receipt.identities ?? [], receipt.profileIds ?? []);
  const tables = new Map((await storesOf(warehouse)).map((t) => [t.table, t]));
  const stores: StoreCheck[] = [];
  for (const store of receipt.stores ?? []) {
    const table = tables.get(store.table);
    const now = table ? await countRows(warehouse, table, person) : undefined;
    stores.push({ table: store.table, after: store.after, now, ok: now === undefined || now <= store.after });
  }
  return { signature, stores, ok: signature && stores.every((s) => s.ok) };
}
