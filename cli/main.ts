import { StackError } from '../stack/errors.ts';
import { ENGINE_NAMES, clientEnv, down, status, up } from '../stack/stack.ts';
import type { EngineName } from '../stack/engines/engine.ts';
import { runLocal } from './local.ts';
import { parseCommandLine } from './args.ts';

const USAGE = `usage: uspa <command>

  uspa stack up [--only kubernetes,temporal,kafka,clickhouse] [--node] [--quiet]
                      install (first run) and start the local engines; returns when all are healthy;
                      --node also runs a real node (kubelet, containerd, kube-proxy, CoreDNS; root only)
                      on which Pods run in containers
  uspa stack down [--purge]
                      stop every process of the stack (also after a crash); --purge deletes its data
  uspa stack status [--json]
                      endpoints and process health
  uspa stack env [--json]
                      variables for clients: eval "$(uspa stack env)"
  uspa local [--demo] run the product on the local stack in the foreground; Ctrl-C stops it;
                      --demo loads a demo shop (examples/demo.yaml, a catalog, two weeks of
                      visitors) and keeps a few live events coming

  uspa operator       the operator (reconciles Source, Pipeline, Segment, Activation)
  uspa runtime        the local runtime: runs USPA's Pods as local processes where there is no kubelet
  uspa collector      the collector service (USPA_CONFIG, PORT)
  uspa api            the API gateway of one namespace (USPA_CONFIG, USPA_NAMESPACE, PORT)
  uspa pipeline       the pipeline workers (USPA_CONFIG, USPA_PIPELINE, PORT)
  uspa worker <segments|activations|models|enrichment|privacy>
                      a namespace's Temporal worker for one task queue (USPA_NAMESPACE, TEMPORAL_ADDRESS, …)

  uspa import <file.csv|file.ndjson> --url <collector> --write-key <key> [--report errors.ndjson]
                      send a file of events to a batch Source, with progress and a per-row error report
  uspa import --catalog <file.csv|file.ndjson> [--api-url <api>] [--api-key <key>] [--batch 500] [--report errors.ndjson]
                      load product catalog items through the API (PUT /v1/catalog/items) with a key
                      of role admin or marketer (USPA_API_URL, USPA_API_KEY: keeps the key out of
                      the process list); CSV columns id (product_id, sku), title (name), category
                      ("Shoes > Running"), price, currency, tags (a|b), url, image (image_url),
                      available (yes/no, in stock/out of stock…), any other column an attribute
                      (kept as text); NDJSON lines are the API's items. Exit 3 when rows were rejected
  uspa dlq list [--source s] [--reason r] [--since time]
  uspa dlq replay [--source s] [--reason r] [--since time] [--dry-run]
                      re-send dead-lettered events (each once) after a fix; --dry-run sends nothing
                      and reports what it would replay per Source and cause, with the first ids
  uspa identity show <identity>            e.g. userId:u-1, email:ada@example.com
  uspa identity unmerge --edge <id> [--pipeline name] [--reason text]
                      undo a merge; the pipeline rebuilds the affected profiles
  uspa privacy erase <identity> [--mode suppress|delete|suppress_with_delete] [--reference text] [--receipt file]
                      erase a person (their whole identity graph) through a PrivacyRequest; waits for
                      the signed receipt and writes it to a file (default <request>-receipt.json)
  uspa privacy access <identity> [--reference text] [--expires-in-hours N] [--out file]
                      export everything held on a person through a PrivacyRequest (action access);
                      waits for the export and downloads it once (default export-<request>.tar.gz)
  uspa privacy download <request> [--out file]
                      the one download of an access request's export made another way (kubectl, API)
  uspa privacy unsuppress <identity>… | --receipt <receipt.json>
                      collect a suppressed person's events again (what was erased stays erased)
  uspa privacy verify <receipt.json>
                      check the receipt's signature with the namespace key and re-count the rows
  uspa check roundtrip -n <ns> --source <s> [--url <collector>] [--timeout <seconds>]
                      send one event to the namespace's collector with the Source's write key and
                      wait until ClickHouse has it (the chart's helm test)
    dlq, identity and privacy work in one namespace, found in the cluster like kubectl does:
    -n, --namespace <ns>   default: the kubeconfig context's namespace, else default
    --pipeline <name>      which Pipeline, when the namespace has several

Environment: KUBECONFIG, TEMPORAL_ADDRESS, KAFKA_BROKERS, CLICKHOUSE_URL point at external engines
(\`up\` then starts only the missing ones); USPA_CACHE_DIR (default ~/.cache/uspa) holds installed
engines; USPA_STATE_DIR (default $USPA_CACHE_DIR/stack) holds the stack's state, logs and data;
USPA_PORT_<ENGINE> pins a port.`;

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function main(argv: string[]): Promise<number> {
  // `uspa import --catalog` reads options of its own (the API's address and key, the batch size).
  if (argv[0] === 'import' && argv.some((a) => a === '--catalog' || a.startsWith('--catalog='))) return (await import('./catalog-import.ts')).runCatalogImport(argv.slice(1));
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group, command] = positionals;
  if (values.help || !group) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (group === 'local') return runLocal({ demo: values.demo });
  if (group === 'collector' || group === 'api' || group === 'pipeline' || group === 'operator' || group === 'runtime' || group === 'worker') {
    // Long-running services: they exit on SIGTERM themselves.
    if (group === 'collector') await (await import('../collector/main.ts')).serveCollector();
    if (group === 'api') await (await import('../gateway/main.ts')).serveGateway();
    if (group === 'pipeline') await (await import('../workers/pipeline/main.ts')).servePipelines();
    if (group === 'operator') await (await import('../operator/main.ts')).serveOperator();
    if (group === 'runtime') await (await import('../stack/runtime/main.ts')).serveLocalRuntime();
    if (group === 'worker') {
      if (command === 'segments') await (await import('../workers/segments/main.ts')).serveSegmentsWorker();
      else if (command === 'activations') await (await import('../workers/activations/main.ts')).serveActivationsWorker();
      else if (command === 'models') await (await import('../workers/models/main.ts')).serveModelsWorker();
      else if (command === 'enrichment') await (await import('../workers/enrichment/main.ts')).serveEnrichmentWorker();
      else if (command === 'privacy') await (await import('../workers/privacy/main.ts')).servePrivacyWorker();
      else {
        console.error(`unknown worker: ${command ?? '(none)'}; choose segments, activations, models, enrichment or privacy`);
        return 2;
      }
    }
    return new Promise<number>(() => undefined);
  }
  // Loaded on use, like the services: `uspa stack` must not depend on the data commands' imports.
  if (group === 'check' && command === 'roundtrip') return (await import('./data.ts')).runDataCommand('check', positionals.slice(2), values);
  if (group === 'import' || group === 'dlq' || group === 'identity' || group === 'privacy') return (await import('./data.ts')).runDataCommand(group, positionals.slice(1), values);
  if (group !== 'stack' || !command) {
    console.error(`unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  let only: EngineName[] | undefined;
  if (values.only) {
    only = values.only.split(',').map((s) => s.trim()) as EngineName[];
    const unknown = only.filter((n) => !ENGINE_NAMES.includes(n));
    if (unknown.length) throw new StackError(`--only names unknown engine(s): ${unknown.join(', ')}`, `choose from ${ENGINE_NAMES.join(', ')}`);
  }
  switch (command) {
    case 'up': {
      const { state } = await up({ only, node: values.node || process.env.USPA_STACK_NODE === '1', quiet: values.quiet });
      for (const [name, e] of Object.entries(state.engines)) {
        for (const [what, endpoint] of Object.entries(e?.endpoints ?? {})) console.log(`${what.padEnd(24)} ${endpoint}`);
        if (e?.external) console.log(`${name.padEnd(24)} external`);
      }
      console.log(`\nclients: eval "$(uspa stack env)"   (or: npm run uspa -- stack env)`);
      return 0;
    }
    case 'down':
      await down({ purge: values.purge, quiet: values.quiet });
      return 0;
    case 'status': {
      const report = status();
      if (values.json) {
        console.log(JSON.stringify(report, null, 2));
      } else if (!report.state) {
        console.log('no stack is running');
      } else {
        console.log(`run ${report.state.runId} (${report.state.phase}), started ${report.state.startedAt}, logs ${report.state.runDir}`);
        for (const [name, e] of Object.entries(report.state.engines)) {
          if (e?.external) console.log(`  ${name.padEnd(24)} external`);
          for (const [what, endpoint] of Object.entries(e?.endpoints ?? {})) console.log(`  ${what.padEnd(24)} ${endpoint}`);
        }
        for (const p of report.problems) console.log(`  problem: ${p}`);
      }
      return report.running ? 0 : 1;
    }
    case 'env': {
      const vars = clientEnv();
      if (values.json) {
        console.log(JSON.stringify(vars, null, 2));
      } else {
        for (const [k, v] of Object.entries(vars)) console.log(`export ${k}=${shellQuote(v)}`);
        console.log(`export PATH=${shellQuote(vars.USPA_STACK_BIN ?? '')}:"$PATH"`);
      }
      return 0;
    }
    default:
      console.error(`unknown command: stack ${command}\n\n${USAGE}`);
      return 2;
  }
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (err) {
    if (err instanceof StackError) {
      console.error(err.format());
      process.exitCode = 1;
    } else {
      console.error(err);
      process.exitCode = 70;
    }
  }
}
