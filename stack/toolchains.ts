import { probeVersion } from './proc.ts';
import { StackError } from './errors.ts';

export type Toolchain = 'go' | 'java' | 'maven' | 'python';

const needs: Record<Toolchain, string> = {
  go: 'Go 1.24 or newer (builds the Kubernetes control plane, etcd, kubectl, helm and the Temporal CLI)',
  java: 'Java 17 or newer (runs the Kafka broker and the Temporal time-skipping test server)',
  maven: 'Maven 3 (resolves the Kafka broker and the Temporal test server from Maven Central)',
  python: 'Python 3.9 or newer with venv (runs chdb, the embedded ClickHouse engine)',
};

const instead: Record<Toolchain, string> = {
  go: 'or use external engines by setting KUBECONFIG and TEMPORAL_ADDRESS',
  java: 'or use an external Kafka by setting KAFKA_BROKERS',
  maven: 'or use an external Kafka by setting KAFKA_BROKERS',
  python: 'or use an external ClickHouse by setting CLICKHOUSE_URL',
};

/** Returns what is wrong with a toolchain, or undefined when it is usable. */
export function checkToolchain(tool: Toolchain, env: NodeJS.ProcessEnv = process.env): string | undefined {
  switch (tool) {
    case 'go': {
      const v = probeVersion('go', ['version'], env);
      const m = v?.match(/go(\d+)\.(\d+)/);
      if (!m) return 'the `go` command was not found on PATH';
      if (Number(m[1]) === 1 && Number(m[2]) < 24) return `found ${v}, which is older than 1.24`;
      return undefined;
    }
    case 'java': {
      const v = probeVersion('java', ['-version'], env);
      const m = v?.match(/version "(\d+)/);
      if (!m) return 'the `java` command was not found on PATH';
      if (Number(m[1]) < 17) return `found ${v}, which is older than 17`;
      return undefined;
    }
    case 'maven':
      return probeVersion('mvn', ['-v'], env) ? undefined : 'the `mvn` command was not found on PATH';
    case 'python': {
      const v = probeVersion('python3', ['-c', 'import sys, venv, ensurepip; print(sys.version_info[0], sys.version_info[1])'], env);
      if (!v) return 'the `python3` command (with the venv and ensurepip modules) was not found on PATH';
      const [major, minor] = v.split(' ').map(Number);
      if (major !== 3 || (minor ?? 0) < 9) return `found Python ${v.replace(' ', '.')}, which is older than 3.9`;
      return undefined;
    }
  }
}

export function requireToolchains(tools: Iterable<Toolchain>, env: NodeJS.ProcessEnv = process.env): void {
  const problems = [...new Set(tools)].flatMap((tool) => {
    const problem = checkToolchain(tool, env);
    return problem ? [{ tool, problem }] : [];
  });
  if (problems.length === 0) return;
  throw new StackError(
    `missing toolchain${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `${p.tool} — ${p.problem}`).join('; ')}`,
    problems.map((p) => `install ${needs[p.tool]}, ${instead[p.tool]}`).join('; '),
  );
}
