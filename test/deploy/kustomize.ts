// Renders the kustomizations under deploy/k8s as `kubectl apply -k` would, for
// the subset of kustomize they use: `resources` (YAML files, or directories
// holding their own kustomization.yaml) and `patches` that are RFC 6902 JSON
// patches with a target. There is no kustomize binary on the machine (nor on
// npm), so the tests render with this; every other kustomization field is
// refused, so a manifest change this renderer does not understand fails the
// tests instead of being skipped over.
import { readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../src/proto/package-root.js';

/** One Kubernetes object as written (apiVersion, kind, metadata, ...). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  [key: string]: unknown;
}

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

/** Every YAML document of a file, as plain objects (empty documents dropped). */
export function readYamlDocuments(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  return docs
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]?.message}`);
      return d.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

function asObject(doc: unknown, where: string): K8sObject {
  const o = doc as Partial<K8sObject> | null;
  if (
    o === null ||
    typeof o !== 'object' ||
    typeof o.apiVersion !== 'string' ||
    typeof o.kind !== 'string' ||
    typeof o.metadata?.name !== 'string'
  ) {
    throw new Error(`${where}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
  }
  return o as K8sObject;
}

function matches(o: K8sObject, t: PatchTarget): boolean {
  const [group, version] = o.apiVersion.includes('/')
    ? o.apiVersion.split('/')
    : ['', o.apiVersion];
  return (
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version) &&
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === o.metadata.name)
  );
}

/** The objects `kubectl apply -k <dir>` would send, in order. */
export function renderKustomization(dir: string): K8sObject[] {
  const root = resolve(dir);
  const file = join(root, 'kustomization.yaml');
  const k = readYamlDocuments(file)[0] as Record<string, unknown> | undefined;
  if (k === undefined) throw new Error(`${file}: empty`);
  for (const field of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(field)) {
      throw new Error(`${file}: field ${JSON.stringify(field)} is not supported by this renderer`);
    }
  }

  const out: K8sObject[] = [];
  for (const entry of (k['resources'] as string[] | undefined) ?? []) {
    const path = resolve(root, entry);
    if (statSync(path).isDirectory()) {
      // kustomize's own rule: a base may not contain the overlay that uses it.
      if (root === path || root.startsWith(path + sep)) {
        throw new Error(`${file}: resource ${entry} contains this kustomization (a cycle)`);
      }
      out.push(...renderKustomization(path));
    } else {
      const where = relative(process.cwd(), path);
      out.push(...readYamlDocuments(path).map((d, i) => asObject(d, `${where} #${i + 1}`)));
    }
  }

  const patches = (k['patches'] as { path?: string; target?: PatchTarget }[] | undefined) ?? [];
  for (const p of patches) {
    if (p.path === undefined || p.target === undefined) {
      throw new Error(`${file}: only patches with path and target are supported`);
    }
    const patchFile = resolve(root, p.path);
    if (!patchFile.startsWith(root + sep)) {
      throw new Error(`${file}: patch ${p.path} lies outside the kustomization's directory`);
    }
    const ops = readYamlDocuments(patchFile)[0];
    if (!Array.isArray(ops)) throw new Error(`${patchFile}: expected a JSON patch (a list of ops)`);
    const targets = out.filter((o) => matches(o, p.target as PatchTarget));
    if (targets.length === 0) {
      throw new Error(`${file}: patch ${p.path} matches no resource`);
    }
    for (const t of targets) {
      const patched = jsonPatch.applyPatch(t, ops as Operation[], true, false).newDocument;
      out[out.indexOf(t)] = patched;
    }
  }
  return out;
}

/** Where the kustomizations live. */
export const K8S_DIR = join(packageRoot(), 'deploy', 'k8s');
