/**
 * Offline checks of the Kubernetes manifests: render an overlay with the real kustomize that
 * ships inside kubectl, validate every object against the Kubernetes OpenAPI schemas
 * (kubernetes-models) or, for CRDs, against the fields KEDA, the Prometheus Operator and
 * cert-manager accept, and answer the questions the specs ask (which env a container gets, what a
 * NetworkPolicy set lets through).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const K8S_DIR = join(REPO_ROOT, 'k8s');
export const OVERLAYS = ['dev', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

/** `kubectl kustomize <dir>` (kustomize v5 is built into kubectl), parsed into objects. */
export function renderKustomization(dir: string): KubeObject[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('kubectl is not installed: the ops tests render kustomize overlays with `kubectl kustomize`');
    throw new Error(`kubectl kustomize ${dir} failed:\n${e.stderr ?? e.message}`);
  }
  return parseYamlObjects(out, dir);
}

export function renderOverlay(overlay: Overlay): KubeObject[] {
  return renderKustomization(join(K8S_DIR, 'overlays', overlay));
}

export function parseYamlObjects(text: string, source: string): KubeObject[] {
  const docs = parseAllDocuments(text);
  const objects: KubeObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS();
    if (value != null) objects.push(value as KubeObject);
  }
  return objects;
}

export function readYamlObjects(path: string): KubeObject[] {
  return parseYamlObjects(readFileSync(path, 'utf8'), path);
}

export const ofKind = (objects: KubeObject[], kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);

export function find(objects: KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function get(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = find(objects, kind, name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Schema validation

type Model = new (data: any) => { validate(): void };
const CORE_MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

const labelMap = z.record(z.string().regex(LABEL_KEY), z.string().max(63).regex(LABEL_VALUE));
const crdMeta = z.object({
  name: z.string().max(253).regex(DNS_SUBDOMAIN),
  namespace: z.string().optional(),
  labels: labelMap.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
}).strict();
const labelSelector = z.object({
  matchLabels: labelMap.optional(),
  matchExpressions: z.array(z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }).strict()).optional(),
}).strict();

// Fields as documented by KEDA v2 (keda.sh/v1alpha1). Trigger metadata is map[string]string in
// KEDA's Go types: a YAML number there is rejected by the API server.
const scaledObject = z.object({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: crdMeta,
  spec: z.object({
    scaleTargetRef: z.object({ name: z.string().min(1), apiVersion: z.string().optional(), kind: z.string().optional(), envSourceContainerName: z.string().optional() }).strict(),
    pollingInterval: z.number().int().positive().optional(),
    cooldownPeriod: z.number().int().nonnegative().optional(),
    initialCooldownPeriod: z.number().int().nonnegative().optional(),
    idleReplicaCount: z.number().int().nonnegative().optional(),
    minReplicaCount: z.number().int().nonnegative().optional(),
    maxReplicaCount: z.number().int().positive().optional(),
    fallback: z.object({ failureThreshold: z.number().int().positive(), replicas: z.number().int().nonnegative() }).strict().optional(),
    advanced: z.object({
      restoreToOriginalReplicaCount: z.boolean().optional(),
      horizontalPodAutoscalerConfig: z.object({ name: z.string().optional(), behavior: z.record(z.string(), z.unknown()).optional() }).strict().optional(),
    }).strict().optional(),
    triggers: z.array(z.object({
      type: z.string().min(1),
      name: z.string().optional(),
      metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
      useCachedMetrics: z.boolean().optional(),
      metadata: z.record(z.string(), z.string()),
      authenticationRef: z.object({ name: z.string().min(1), kind: z.enum(['TriggerAuthentication', 'ClusterTriggerAuthentication']).optional() }).strict().optional(),
    }).strict()).min(1),
  }).strict().refine((s) => (s.minReplicaCount ?? 0) <= (s.maxReplicaCount ?? 100), 'minReplicaCount > maxReplicaCount'),
}).strict();

const triggerAuthentication = z.object({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('TriggerAuthentication'),
  metadata: crdMeta,
  spec: z.object({
    secretTargetRef: z.array(z.object({ parameter: z.string().min(1), name: z.string().min(1), key: z.string().min(1) }).strict()).min(1),
  }).strict(),
}).strict();

// monitoring.coreos.com/v1, the subset of fields these manifests may use.
const serviceMonitor = z.object({
  apiVersion: z.literal('monitoring.coreos.com/v1'),
  kind: z.literal('ServiceMonitor'),
  metadata: crdMeta,
  spec: z.object({
    selector: labelSelector,
    namespaceSelector: z.object({ any: z.boolean().optional(), matchNames: z.array(z.string()).optional() }).strict().optional(),
    jobLabel: z.string().optional(),
    targetLabels: z.array(z.string()).optional(),
    podTargetLabels: z.array(z.string()).optional(),
    endpoints: z.array(z.object({
      port: z.string().min(1),
      path: z.string().startsWith('/').optional(),
      scheme: z.enum(['http', 'https']).optional(),
      interval: z.string().regex(DURATION).optional(),
      scrapeTimeout: z.string().regex(DURATION).optional(),
      honorLabels: z.boolean().optional(),
    }).strict()).min(1),
  }).strict(),
}).strict();

const alertingRule = z.object({
  alert: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  expr: z.string().min(1),
  for: z.string().regex(DURATION).optional(),
  keep_firing_for: z.string().regex(DURATION).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
}).strict();
const recordingRule = z.object({ record: z.string().min(1), expr: z.string().min(1), labels: z.record(z.string(), z.string()).optional() }).strict();
const prometheusRule = z.object({
  apiVersion: z.literal('monitoring.coreos.com/v1'),
  kind: z.literal('PrometheusRule'),
  metadata: crdMeta,
  spec: z.object({
    groups: z.array(z.object({
      name: z.string().min(1),
      interval: z.string().regex(DURATION).optional(),
      rules: z.array(z.union([alertingRule, recordingRule])).min(1),
    }).strict()).min(1),
  }).strict(),
}).strict();

// cert-manager.io/v1, the subset of fields these manifests may use.
const certificate = z.object({
  apiVersion: z.literal('cert-manager.io/v1'),
  kind: z.literal('Certificate'),
  metadata: crdMeta,
  spec: z.object({
    secretName: z.string().max(253).regex(DNS_SUBDOMAIN),
    commonName: z.string().max(64).optional(),
    dnsNames: z.array(z.string().regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/)).min(1),
    issuerRef: z.object({ name: z.string().min(1), kind: z.enum(['Issuer', 'ClusterIssuer']).optional(), group: z.string().optional() }).strict(),
    privateKey: z.object({
      algorithm: z.enum(['RSA', 'ECDSA', 'Ed25519']).optional(),
      size: z.number().int().positive().optional(),
      encoding: z.enum(['PKCS1', 'PKCS8']).optional(),
      rotationPolicy: z.enum(['Never', 'Always']).optional(),
    }).strict().optional(),
    duration: z.string().regex(/^(\d+(ns|us|ms|s|m|h))+$/).optional(),
    renewBefore: z.string().regex(/^(\d+(ns|us|ms|s|m|h))+$/).optional(),
    usages: z.array(z.string()).optional(),
  }).strict(),
}).strict();

const CRD_SCHEMAS: Record<string, z.ZodType> = {
  'cert-manager.io/v1/Certificate': certificate,
  'keda.sh/v1alpha1/ScaledObject': scaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': triggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': serviceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': prometheusRule,
};

/** Problems with one object; empty when valid. Unknown kinds are a problem, not a pass. */
export function validateObject(obj: KubeObject): string[] {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const problems: string[] = [];
  if (!obj.metadata?.name || !DNS_SUBDOMAIN.test(obj.metadata.name) || obj.metadata.name.length > 253) problems.push(`${id}: invalid name`);
  if (obj.kind === 'Service' && !DNS_LABEL.test(obj.metadata.name)) problems.push(`${id}: a Service name must be a DNS-1035 label`);
  for (const labels of labelSets(obj)) {
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_KEY.test(k) || typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) problems.push(`${id}: invalid label ${k}=${String(v)}`);
    }
  }
  const model = CORE_MODELS[key];
  const crd = CRD_SCHEMAS[key];
  if (model) {
    try {
      new model(normaliseForSchema(obj)).validate();
    } catch (err) {
      problems.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else if (crd) {
    const result = crd.safeParse(obj);
    if (!result.success) problems.push(...result.error.issues.map((i) => `${id}: ${i.path.join('.')}: ${i.message}`));
  } else {
    problems.push(`${id}: no schema known for ${key}`);
  }
  return problems;
}

/**
 * kustomize wraps long base64 Secret values over several lines; the API server's base64 decoder
 * ignores line breaks, the schema's "byte" format does not.
 */
function normaliseForSchema(obj: KubeObject): KubeObject {
  if (obj.kind !== 'Secret' || !obj.data) return obj;
  return { ...obj, data: Object.fromEntries(Object.entries<string>(obj.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) };
}

function labelSets(obj: KubeObject): Record<string, string>[] {
  const sets = [obj.metadata?.labels ?? {}];
  const template = podTemplate(obj);
  if (template?.metadata?.labels) sets.push(template.metadata.labels);
  return sets;
}

// ---------------------------------------------------------------------------------------------
// Workloads

export const SERVICE_APPS = ['api', 'scheduler', 'composer', 'mailer', 'inbound'] as const;
export type ServiceApp = (typeof SERVICE_APPS)[number];

export function podTemplate(obj: KubeObject): any {
  if (obj.kind === 'Deployment' || obj.kind === 'Job') return obj.spec?.template;
  return undefined;
}

/** Deployments of the five services (selected by the app's own labels, not the dev backing services). */
export function appDeployments(objects: KubeObject[]): KubeObject[] {
  return ofKind(objects, 'Deployment').filter((d) => d.metadata.labels?.['app.kubernetes.io/name'] === 'mentor-zero');
}

export function envValue(container: any, name: string): string | undefined {
  return container.env?.find((e: any) => e.name === name)?.value;
}

export function matchesSelector(selector: any, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const value = labels[expr.key];
    if (expr.operator === 'In' && !(has && expr.values.includes(value))) return false;
    if (expr.operator === 'NotIn' && has && expr.values.includes(value)) return false;
    if (expr.operator === 'Exists' && !has) return false;
    if (expr.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Kubernetes quantities ("100m", "512Mi", "2") as numbers (cores or bytes). */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) throw new Error(`unparseable quantity ${q}`);
  const factor: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * factor[m[2] ?? ''];
}

// ---------------------------------------------------------------------------------------------
// Environment a container receives

export function secretData(secret: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries<string>(secret.stringData ?? {})) out[k] = v;
  return out;
}

/**
 * The environment Kubernetes gives a container: envFrom sources in order (later wins), then
 * `env` (wins over envFrom). Secrets not in the rendered manifests come from `external`
 * (created out of band in production). An unresolvable reference throws.
 */
export function containerEnv(container: any, objects: KubeObject[], external: Record<string, Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const secretByName = (name: string): Record<string, string> => {
    const s = find(objects, 'Secret', name);
    if (s) return secretData(s);
    if (external[name]) return external[name];
    throw new Error(`Secret ${name} is neither rendered nor provided out of band`);
  };
  const configMapByName = (name: string): Record<string, string> => get(objects, 'ConfigMap', name).data ?? {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMapByName(source.configMapRef.name));
    else if (source.secretRef) Object.assign(env, secretByName(source.secretRef.name));
    else throw new Error(`unsupported envFrom ${JSON.stringify(source)}`);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const value = secretByName(e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
      if (value === undefined) throw new Error(`${e.name}: key ${e.valueFrom.secretKeyRef.key} missing`);
      env[e.name] = value;
    } else if (e.valueFrom?.configMapKeyRef) {
      const value = configMapByName(e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key];
      if (value === undefined) throw new Error(`${e.name}: key ${e.valueFrom.configMapKeyRef.key} missing`);
      env[e.name] = value;
    } else env[e.name] = '';
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy evaluation (the subset of semantics these manifests use)

/** Where traffic goes to or comes from. */
export type Peer =
  | { kind: 'external' }
  | { kind: 'pod'; namespace: string; namespaceLabels?: Record<string, string>; labels: Record<string, string> };

export const externalPeer: Peer = { kind: 'external' };
export function namespacePeer(namespace: string, labels: Record<string, string> = {}): Peer {
  return { kind: 'pod', namespace, namespaceLabels: { 'kubernetes.io/metadata.name': namespace }, labels };
}

function peerMatches(rulePeer: any, peer: Peer, policyNamespace: string): boolean {
  if (rulePeer.ipBlock) {
    // Only "the whole internet" blocks are used here; in-cluster pods are not matched by them.
    return peer.kind === 'external' && /\/0$/.test(rulePeer.ipBlock.cidr) && !(rulePeer.ipBlock.except ?? []).length;
  }
  if (peer.kind !== 'pod') return false;
  const nsOk = rulePeer.namespaceSelector
    ? matchesSelector(rulePeer.namespaceSelector, peer.namespaceLabels ?? { 'kubernetes.io/metadata.name': peer.namespace })
    : peer.namespace === policyNamespace;
  const podOk = rulePeer.podSelector ? matchesSelector(rulePeer.podSelector, peer.labels) : true;
  return nsOk && podOk;
}

function portMatches(rulePorts: any[] | undefined, port: number, protocol: string, namedPorts: Record<string, number>): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const n = typeof p.port === 'number' ? p.port : namedPorts[p.port];
    if (n === undefined) return false;
    return p.endPort ? port >= n && port <= p.endPort : port === n;
  });
}

/** Whether `direction` traffic of a pod (labels, namespace) on a port is allowed by the policies. */
export function trafficAllowed(
  policies: KubeObject[],
  pod: { namespace: string; labels: Record<string, string>; namedPorts?: Record<string, number> },
  direction: 'Ingress' | 'Egress',
  peer: Peer,
  port: number,
  protocol: 'TCP' | 'UDP' = 'TCP',
): boolean {
  const selecting = policies.filter((p) => {
    const ns = p.metadata.namespace ?? pod.namespace;
    const types: string[] = p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
    return ns === pod.namespace && types.includes(direction) && matchesSelector(p.spec.podSelector, pod.labels);
  });
  if (selecting.length === 0) return true; // not isolated
  const field = direction === 'Ingress' ? 'ingress' : 'egress';
  const peersField = direction === 'Ingress' ? 'from' : 'to';
  // For egress the named port belongs to the destination; only numeric ports are used there.
  const named = direction === 'Ingress' ? (pod.namedPorts ?? {}) : {};
  return selecting.some((p) =>
    (p.spec[field] ?? []).some((rule: any) => {
      const peers = rule[peersField];
      const peerOk = !peers || peers.length === 0 || peers.some((rp: any) => peerMatches(rp, peer, p.metadata.namespace ?? pod.namespace));
      return peerOk && portMatches(rule.ports, port, protocol, named);
    }),
  );
}

/** The pod of a Deployment/Job as NetworkPolicy sees it. */
export function podOf(obj: KubeObject): { namespace: string; labels: Record<string, string>; namedPorts: Record<string, number> } {
  const template = podTemplate(obj);
  const namedPorts: Record<string, number> = {};
  for (const c of template.spec.containers) for (const p of c.ports ?? []) if (p.name) namedPorts[p.name] = p.containerPort;
  return { namespace: obj.metadata.namespace ?? 'default', labels: template.metadata.labels ?? {}, namedPorts };
}

// ---------------------------------------------------------------------------------------------
// Secrets hygiene

const PLACEHOLDER = /change-?me|replace|placeholder|example|dev-only/i;
const REAL_KEY_SHAPES: [string, RegExp][] = [
  ['OpenAI-style API key', /\bsk-[A-Za-z0-9_-]{16,}/],
  ['AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{30,}/],
  ['Slack token', /\bxox[abpr]-[A-Za-z0-9-]{10,}/],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
];

/**
 * Why a Secret value looks like a real secret, or undefined when it is clearly a placeholder:
 * empty, carrying a placeholder marker (change-me, example, dev-only…), or a URL/host without
 * credentials.
 */
export function realLookingSecret(value: string): string | undefined {
  for (const [what, shape] of REAL_KEY_SHAPES) if (shape.test(value)) return `looks like a ${what}`;
  if (value === '') return undefined;
  let url: URL | undefined;
  try {
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url) {
    const password = decodeURIComponent(url.password);
    if (!password || PLACEHOLDER.test(password)) return undefined;
    return 'URL carries a password that is not a placeholder';
  }
  if (/^[a-z0-9.-]+:\d+$/i.test(value)) return undefined; // host:port
  if (PLACEHOLDER.test(value)) return undefined;
  return 'value is not marked as a placeholder (change-me, example, dev-only…)';
}

export function exampleSecret(): KubeObject {
  const [secret] = readYamlObjects(join(K8S_DIR, 'base', 'secret.example.yaml'));
  return secret;
}

export function fileExists(rel: string): boolean {
  return existsSync(join(REPO_ROOT, rel));
}
