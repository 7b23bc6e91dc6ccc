// Reads the workload configuration file (USPA_CONFIG: YAML or JSON) that api/workload.ts describes.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../api/problems.ts';
import { checkWorkloadConfig, type CheckOptions, type WorkloadConfig } from '../api/workload.ts';

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, options: CheckOptions = {}): WorkloadConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid YAML/JSON: ${(err as Error).message}`]);
  }
  return checkWorkloadConfig(parsed, path, env, options);
}
