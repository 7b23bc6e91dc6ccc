// Imported first by bench:ingest in place of ../support/use-stack.ts: the same, except that
// `--only-ceilings` also runs without a stack (the bare-HTTP ceiling needs no engine; the kafkajs
// one runs when KAFKA_BROKERS is set or a stack is up).
import { status } from '../../stack/stack.ts';
import { useStack } from '../support/stack.ts';

if (!process.argv.includes('--only-ceilings') || status().running) useStack();
