/**
 * The Kubernetes manifests, rendered by the real kustomize (kubectl kustomize) for every
 * overlay and checked offline: schemas, the operational invariants every Deployment must keep,
 * the configuration each container gets (parsed by the services' own ConfigSchema), references
 * between objects, network policies, autoscaling and the deploy order.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_QUEUES, parseConfig, QueueName } from '@mz/contracts';
import { keysThatMustBeExplicit, missingExplicitKeys } from './support/config-requirements';
import {
  appDeployments,
  containerEnv,
  envValue,
  exampleSecret,
  externalPeer,
  find,
  get,
  K8S_DIR,
  KubeObject,
  matchesSelector,
  namespacePeer,
  ofKind,
  OVERLAYS,
  Overlay,
  parseQuantity,
  podOf,
  podTemplate,
  realLookingSecret,
  renderKustomization,
  renderOverlay,
  secretData,
  SERVICE_APPS,
  trafficAllowed,
  validateObject,
} from './support/kube-manifests';
import { DASHBOARD_PATH } from './support/monitoring-queries';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DEFAULT_PORTS } = require('../../docker/healthcheck.cjs') as { DEFAULT_PORTS: Record<string, number> };

const rendered: Record<Overlay, KubeObject[]> = { dev: [], prod: [] };
const SECRET_NAME = 'mentor-zero-secrets';

beforeAll(() => {
  for (const overlay of OVERLAYS) rendered[overlay] = renderOverlay(overlay);
});

/** The Secret as the cluster will have it: rendered (dev) or created out of band (prod: the example's keys). */
/**
 * The Secret an operator creates for an overlay that does not generate one: the example's keys,
 * with the secrets generated as the example says (its own values are placeholders that production
 * refuses — see 'refuses the example secret values').
 */
const GENERATED = { WEBHOOK_SECRET: randomBytes(32).toString('hex'), SESSION_SECRET: randomBytes(32).toString('hex') };
function externalSecrets(overlay: Overlay): Record<string, Record<string, string>> {
  return find(rendered[overlay], 'Secret', SECRET_NAME) ? {} : { [SECRET_NAME]: { ...secretData(exampleSecret()), ...GENERATED } };
}

function overlayImage(overlay: Overlay): { name: string; tag: string } {
  const k = readFileSync(join(K8S_DIR, 'overlays', overlay, 'kustomization.yaml'), 'utf8');
  const name = /newName:\s*(\S+)/.exec(k)?.[1];
  const tag = /newTag:\s*['"]?([^'"\s]+)/.exec(k)?.[1];
  if (!name || !tag) throw new Error(`overlay ${overlay} sets no image`);
  return { name, tag };
}

describe.each(OVERLAYS)('k8s overlay %s', (overlay) => {
  const objects = () => rendered[overlay];

  it('renders and every object validates against its schema', () => {
    expect(objects().length).toBeGreaterThan(20);
    const problems = objects().flatMap(validateObject);
    expect(problems).toEqual([]);
    const kinds = new Set(objects().map((o) => o.kind));
    for (const kind of ['Namespace', 'Deployment', 'Service', 'Ingress', 'Job', 'ConfigMap', 'PodDisruptionBudget', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'ScaledObject', 'TriggerAuthentication', 'ServiceMonitor', 'PrometheusRule']) {
      expect(kinds).toContain(kind);
    }
    // no duplicate kind/name (kustomize would allow two different namespaces; we use one)
    const ids = objects().map((o) => `${o.kind}/${o.metadata.name}`);
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('puts everything in the overlay namespace', () => {
    const [ns] = ofKind(objects(), 'Namespace');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const o of objects().filter((x) => x.kind !== 'Namespace')) expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} ${ns.metadata.name}`);
  });

  it('runs exactly the five services, one Deployment each, on the overlay image', () => {
    const deployments = appDeployments(objects());
    const apps = deployments.map((d) => envValue(podTemplate(d).spec.containers[0], 'APP')).sort();
    expect(apps).toEqual([...SERVICE_APPS].sort());
    const { name, tag } = overlayImage(overlay);
    expect(tag).not.toBe('latest');
    for (const d of [...deployments, get(objects(), 'Job', 'mentor-zero-migrate')]) {
      for (const c of podTemplate(d).spec.containers) expect(c.image).toBe(`${name}:${tag}`);
    }
  });

  describe.each(SERVICE_APPS)('Deployment of %s', (app) => {
    const deployment = () => get(objects(), 'Deployment', `mentor-zero-${app}`);
    const pod = () => podTemplate(deployment());
    const container = () => pod().spec.containers[0];

    it('has probes on /health/live and /health/ready on its HTTP port', () => {
      const c = container();
      const httpPort = c.ports.find((p: any) => p.name === 'http');
      expect(httpPort?.containerPort).toBe(DEFAULT_PORTS[app]);
      expect(envValue(c, 'PORT')).toBe(String(DEFAULT_PORTS[app]));
      expect(c.livenessProbe.httpGet).toMatchObject({ path: '/health/live', port: 'http' });
      expect(c.readinessProbe.httpGet).toMatchObject({ path: '/health/ready', port: 'http' });
      if (c.startupProbe) expect(c.startupProbe.httpGet.path).toBe('/health/live');
    });

    it('sets requests and limits, requests within limits', () => {
      const { requests, limits } = container().resources;
      for (const r of ['cpu', 'memory']) {
        expect(requests?.[r]).toBeDefined();
        expect(limits?.[r]).toBeDefined();
        expect(parseQuantity(requests[r])).toBeLessThanOrEqual(parseQuantity(limits[r]));
      }
    });

    it('runs non-root with a read-only root filesystem and no capabilities', () => {
      const podSec = pod().spec.securityContext;
      expect(podSec.runAsNonRoot).toBe(true);
      expect(podSec.runAsUser).toBeGreaterThan(0);
      expect(podSec.seccompProfile?.type).toBe('RuntimeDefault');
      const sec = container().securityContext;
      expect(sec.readOnlyRootFilesystem).toBe(true);
      expect(sec.allowPrivilegeEscalation).toBe(false);
      expect(sec.capabilities.drop).toContain('ALL');
      expect(sec.capabilities.add ?? []).toEqual([]);
      // the one writable path, an emptyDir
      const tmp = container().volumeMounts.find((m: any) => m.mountPath === '/tmp');
      expect(pod().spec.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      expect(pod().spec.automountServiceAccountToken).toBe(false);
    });

    it('rolls with zero unavailable and a grace period longer than its longest job', () => {
      const d = deployment();
      expect(d.spec.strategy.type).toBe('RollingUpdate');
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const grace = pod().spec.terminationGracePeriodSeconds;
      expect(grace).toBeGreaterThanOrEqual(30);
      const env = containerEnv(container(), objects(), externalSecrets(overlay));
      const config = parseConfig(env);
      const preStop = container().lifecycle?.preStop?.exec?.command;
      const preStopMs = preStop?.[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
      // SIGTERM arrives after preStop; the app then has SHUTDOWN_TIMEOUT_MS, and must exit
      // before the kubelet's SIGKILL, with a margin.
      expect(grace * 1000).toBeGreaterThanOrEqual(preStopMs + config.SHUTDOWN_TIMEOUT_MS + 5000);
      if (app === 'composer') expect(config.SHUTDOWN_TIMEOUT_MS).toBeGreaterThanOrEqual(config.LLM_TIMEOUT_MS);
    });

    it('carries the standard labels, version equal to the image tag', () => {
      const { tag } = overlayImage(overlay);
      for (const labels of [deployment().metadata.labels, pod().metadata.labels]) {
        expect(labels).toMatchObject({
          'app.kubernetes.io/name': 'mentor-zero',
          'app.kubernetes.io/part-of': 'mentor-zero',
          'app.kubernetes.io/component': app,
          'app.kubernetes.io/version': tag,
        });
      }
      // selectors never include the version: they are immutable across releases
      expect(Object.keys(deployment().spec.selector.matchLabels).sort()).toEqual(['app.kubernetes.io/component', 'app.kubernetes.io/name']);
    });

    it('gets a production configuration the config schema accepts, with every required value set', () => {
      const env = containerEnv(container(), objects(), externalSecrets(overlay));
      // The dev overlay's secrets are written in the repository, which production refuses: it runs as development.
      expect(env.NODE_ENV).toBe(overlay === 'dev' ? 'development' : 'production');
      expect(env.APP).toBe(app);
      expect(() => parseConfig(env)).not.toThrow();
      expect(keysThatMustBeExplicit()).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'SESSION_SECRET', 'WEBHOOK_SECRET']));
      expect(missingExplicitKeys(env)).toEqual([]);
      const config = parseConfig(env);
      const host = get(objects(), 'Ingress', 'mentor-zero').spec.rules[0].host;
      expect(new URL(config.APP_BASE_URL).host).toBe(host);
      if (overlay === 'prod') {
        expect(config.APP_BASE_URL.startsWith('https://')).toBe(true);
        for (const key of ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'APP_BASE_URL'] as const) expect(config[key]).not.toMatch(/127\.0\.0\.1|localhost/);
      }
    });

    it('has a Service and a PodDisruptionBudget selecting its pods', () => {
      const labels = pod().metadata.labels;
      const svc = ofKind(objects(), 'Service').find((s) => s.spec.selector && s.spec.type !== 'LoadBalancer' && matchesSelector({ matchLabels: s.spec.selector }, labels));
      expect(svc?.spec.ports.find((p: any) => p.name === 'http')?.targetPort).toBe('http');
      expect(svc?.metadata.labels?.['mentor-zero.io/metrics']).toBe('true');
      const pdb = ofKind(objects(), 'PodDisruptionBudget').find((p) => matchesSelector(p.spec.selector, labels));
      expect(pdb).toBeDefined();
      // a budget that allows no disruption at all would block node drains
      expect(pdb!.spec.maxUnavailable ?? 0).toBeGreaterThanOrEqual(1);
    });
  });

  it('scales the api with an HPA and composer, mailer, inbound with KEDA on their BullMQ wait lists', () => {
    const deployments = appDeployments(objects());
    const hpa = get(objects(), 'HorizontalPodAutoscaler', 'mentor-zero-api');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'mentor-zero-api' });
    const prefix = get(objects(), 'ConfigMap', podTemplate(deployments[0]).spec.containers[0].envFrom[0].configMapRef.name).data.QUEUE_PREFIX;
    const expected: Record<string, string[]> = {
      composer: [QueueName.LettersCompose],
      mailer: [QueueName.LettersSend, QueueName.MailTransactional],
      inbound: [QueueName.RepliesProcess],
    };
    for (const [app, queues] of Object.entries(expected)) {
      const so = get(objects(), 'ScaledObject', `mentor-zero-${app}`);
      expect(so.spec.scaleTargetRef.name).toBe(`mentor-zero-${app}`);
      expect(find(objects(), 'Deployment', so.spec.scaleTargetRef.name)).toBeDefined();
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1); // these must always run
      const lists = so.spec.triggers.map((t: any) => {
        // single Redis: `redis` with address; Redis Cluster (prod): `redis-cluster` with addresses
        expect(['redis', 'redis-cluster']).toContain(t.type);
        expect(Number(t.metadata.listLength)).toBeGreaterThan(0);
        const auth = get(objects(), 'TriggerAuthentication', t.authenticationRef.name);
        expect(auth.spec.secretTargetRef.map((r: any) => r.parameter).sort()).toEqual(t.type === 'redis' ? ['address', 'password'] : ['addresses', 'password']);
        if (t.type === 'redis-cluster') expect(prefix).toMatch(/\{[^{}]+\}/); // a hash tag: one slot per queue
        return t.metadata.listName;
      });
      expect(lists).toEqual(queues.map((q) => `${prefix}:${q}:wait`));
      for (const q of queues) expect(ALL_QUEUES).toContain(q);
    }
    // an autoscaled Deployment leaves replicas to its autoscaler, so `kubectl apply` never fights it
    for (const d of deployments) {
      const scaled = d.metadata.name === 'mentor-zero-api' || find(objects(), 'ScaledObject', d.metadata.name);
      if (scaled) expect(d.spec.replicas).toBeUndefined();
    }
    expect(get(objects(), 'Deployment', 'mentor-zero-scheduler').spec.replicas).toBeGreaterThanOrEqual(1);
  });

  it('resolves every reference between objects', () => {
    const secrets = { ...externalSecrets(overlay), ...Object.fromEntries(ofKind(objects(), 'Secret').map((s) => [s.metadata.name, secretData(s)])) };
    for (const w of [...ofKind(objects(), 'Deployment'), ...ofKind(objects(), 'Job')]) {
      const spec = podTemplate(w).spec;
      if (spec.serviceAccountName) expect(find(objects(), 'ServiceAccount', spec.serviceAccountName)).toBeDefined();
      for (const c of spec.containers) expect(() => containerEnv(c, objects(), secrets)).not.toThrow();
    }
    for (const auth of ofKind(objects(), 'TriggerAuthentication')) {
      for (const ref of auth.spec.secretTargetRef) expect([ref.key, secrets[ref.name]?.[ref.key] !== undefined]).toEqual([ref.key, true]);
    }
    const ingress = get(objects(), 'Ingress', 'mentor-zero');
    for (const path of ingress.spec.rules.flatMap((r: any) => r.http.paths)) {
      const svc = get(objects(), 'Service', path.backend.service.name);
      const port = path.backend.service.port;
      expect(svc.spec.ports.some((p: any) => (port.name ? p.name === port.name : p.port === port.number))).toBe(true);
    }
    const podLabels = [...ofKind(objects(), 'Deployment'), ...ofKind(objects(), 'Job')].map((w) => podTemplate(w).metadata.labels);
    for (const svc of ofKind(objects(), 'Service').filter((s) => s.spec.selector)) {
      expect([svc.metadata.name, podLabels.some((l) => matchesSelector({ matchLabels: svc.spec.selector }, l))]).toEqual([svc.metadata.name, true]);
    }
    for (const np of ofKind(objects(), 'NetworkPolicy')) {
      expect([np.metadata.name, podLabels.some((l) => matchesSelector(np.spec.podSelector, l))]).toEqual([np.metadata.name, true]);
    }
    const sm = get(objects(), 'ServiceMonitor', 'mentor-zero');
    const scraped = ofKind(objects(), 'Service').filter((s) => matchesSelector(sm.spec.selector, s.metadata.labels));
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual(SERVICE_APPS.map((a) => `mentor-zero-${a}`).sort());
    for (const s of scraped) expect(s.spec.ports.map((p: any) => p.name)).toContain(sm.spec.endpoints[0].port);
  });

  it('routes / to the api, /webhooks/reply and the mail providers\' webhooks to inbound, and SMTP 25 to 2525', () => {
    const ingress = get(objects(), 'Ingress', 'mentor-zero');
    const paths = ingress.spec.rules[0].http.paths;
    expect(paths.find((p: any) => p.path === '/')?.backend.service.name).toBe('mentor-zero-api');
    expect(paths.find((p: any) => p.path === '/webhooks/reply')?.backend.service.name).toBe('mentor-zero-inbound');
    // Every provider endpoint the inbound service serves, matched by the most specific path (as ingress-nginx does).
    const route = (url: string) => paths
      .filter((p: any) => (p.pathType === 'Exact' ? url === p.path : url === p.path || url.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`)))
      .sort((a: any, b: any) => b.path.length - a.path.length)[0]?.backend.service.name;
    for (const url of ['/webhooks/mailgun/inbound', '/webhooks/mailgun/events', '/webhooks/sendgrid/inbound', '/webhooks/sendgrid/events', '/webhooks/postmark/inbound', '/webhooks/postmark/events', '/webhooks/ses']) {
      expect([url, route(url)]).toEqual([url, 'mentor-zero-inbound']);
    }
    // /metrics is not published through the ingress
    const metrics = paths.find((p: any) => p.path === '/metrics');
    expect(find(objects(), 'Service', metrics.backend.service.name)?.spec.selector).toBeUndefined();
    const smtp = get(objects(), 'Service', 'mentor-zero-inbound-smtp');
    expect(smtp.spec.type).toBe('LoadBalancer');
    expect(smtp.spec.ports).toEqual([expect.objectContaining({ port: 25, targetPort: 'smtp' })]);
    const inbound = podOf(get(objects(), 'Deployment', 'mentor-zero-inbound'));
    expect(inbound.namedPorts.smtp).toBe(2525);
    expect(envValue(podTemplate(get(objects(), 'Deployment', 'mentor-zero-inbound')).spec.containers[0], 'INBOUND_SMTP_PORT')).toBe('2525');
  });

  it('routes mta-sts.<REPLY_DOMAIN> to the api for the MTA-STS policy only', () => {
    const ingress = get(objects(), 'Ingress', 'mentor-zero');
    const api = containerEnv(podTemplate(get(objects(), 'Deployment', 'mentor-zero-api')).spec.containers[0], objects(), externalSecrets(overlay));
    const rule = ingress.spec.rules.find((r: any) => r.host === `mta-sts.${parseConfig(api).REPLY_DOMAIN}`);
    expect(rule).toBeDefined();
    expect(rule.http.paths).toEqual([
      { path: '/.well-known/mta-sts.txt', pathType: 'Exact', backend: { service: { name: 'mentor-zero-api', port: { name: 'http' } } } },
    ]);
  });

  it('runs migrations in a Job with the service image, never in the services', () => {
    const job = get(objects(), 'Job', 'mentor-zero-migrate');
    const spec = podTemplate(job).spec;
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(envValue(spec.containers[0], 'APP')).toBe('migrate');
    expect(() => parseConfig(containerEnv(spec.containers[0], objects(), externalSecrets(overlay)))).not.toThrow();
    for (const d of appDeployments(objects())) expect(envValue(podTemplate(d).spec.containers[0], 'APP')).not.toMatch(/migrate/);
  });

  it('applies, in the pre-rollout phase, everything the migration Job needs', () => {
    const phase = (o: KubeObject) => o.metadata.labels?.['mentor-zero.io/deploy-phase'] === 'pre-rollout';
    const job = get(objects(), 'Job', 'mentor-zero-migrate');
    expect(phase(job)).toBe(true);
    expect(phase(ofKind(objects(), 'Namespace')[0])).toBe(true);
    const spec = podTemplate(job).spec;
    expect(phase(get(objects(), 'ServiceAccount', spec.serviceAccountName))).toBe(true);
    for (const source of spec.containers[0].envFrom) {
      if (source.configMapRef) expect(phase(get(objects(), 'ConfigMap', source.configMapRef.name))).toBe(true);
      const secret = source.secretRef && find(objects(), 'Secret', source.secretRef.name);
      if (secret) expect(phase(secret)).toBe(true);
    }
    const jobPod = podOf(job);
    for (const np of ofKind(objects(), 'NetworkPolicy').filter((p) => matchesSelector(p.spec.podSelector, jobPod.labels))) expect([np.metadata.name, phase(np)]).toEqual([np.metadata.name, true]);
    // an in-cluster database (dev) must be up before the Job runs
    const dbHost = new URL(containerEnv(spec.containers[0], objects(), externalSecrets(overlay)).DATABASE_URL).hostname;
    const dbService = find(objects(), 'Service', dbHost);
    if (dbService) {
      expect(phase(dbService)).toBe(true);
      for (const d of ofKind(objects(), 'Deployment').filter((x) => matchesSelector({ matchLabels: dbService.spec.selector }, podTemplate(x).metadata.labels))) expect(phase(d)).toBe(true);
    }
    // the services themselves roll out only after the Job
    for (const d of appDeployments(objects())) expect(phase(d)).toBe(false);
  });

  it('denies by default and opens only what each service needs', () => {
    const policies = ofKind(objects(), 'NetworkPolicy');
    const ns = ofKind(objects(), 'Namespace')[0].metadata.name;
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    const pod = (app: string) => podOf(get(objects(), 'Deployment', `mentor-zero-${app}`));
    const egress = (app: string, port: number, peer = externalPeer, proto: 'TCP' | 'UDP' = 'TCP') => trafficAllowed(policies, pod(app), 'Egress', peer, port, proto);
    const ingress = (app: string, port: number, peer = externalPeer) => trafficAllowed(policies, pod(app), 'Ingress', peer, port);
    const dns = namespacePeer('kube-system', { 'k8s-app': 'kube-dns' });
    const migrate = podOf(get(objects(), 'Job', 'mentor-zero-migrate'));

    for (const app of SERVICE_APPS) {
      expect([app, egress(app, 5432), egress(app, 6379), egress(app, 53, dns, 'UDP'), egress(app, 53, dns, 'TCP')]).toEqual([app, true, true, true, true]);
      expect([app, ingress(app, DEFAULT_PORTS[app], namespacePeer('monitoring'))]).toEqual([app, true]);
      expect([app, egress(app, 80)]).toEqual([app, false]);
    }
    expect(trafficAllowed(policies, migrate, 'Egress', externalPeer, 5432)).toBe(true);
    expect(trafficAllowed(policies, migrate, 'Egress', externalPeer, 443)).toBe(false);
    // SMTP out only from the mailer
    for (const port of [587, 465, 25]) {
      expect(egress('mailer', port)).toBe(true);
      for (const app of ['api', 'scheduler', 'composer', 'inbound']) expect([app, port, egress(app, port)]).toEqual([app, port, false]);
    }
    // the LLM (HTTPS) only from the composer and inbound (reply intents)
    expect(egress('composer', 443)).toBe(true);
    expect(egress('inbound', 443)).toBe(true);
    for (const app of ['api', 'scheduler', 'mailer']) expect([app, egress(app, 443)]).toEqual([app, false]);
    // public entry points
    const controller = namespacePeer('ingress-nginx', { 'app.kubernetes.io/name': 'ingress-nginx' });
    expect(ingress('api', 3000, controller)).toBe(true);
    expect(ingress('api', 3000)).toBe(false);
    expect(ingress('inbound', 3001, controller)).toBe(true);
    expect(ingress('inbound', 2525)).toBe(true);
    expect(ingress('inbound', 3001)).toBe(false);
    for (const app of ['scheduler', 'composer', 'mailer']) expect([app, ingress(app, DEFAULT_PORTS[app], controller)]).toEqual([app, false]);

    if (overlay === 'dev') {
      // the throwaway backing services accept exactly the app (and KEDA for Redis)
      const dep = (name: string) => podOf(get(objects(), 'Deployment', name));
      const appPeer = (app: string) => ({ kind: 'pod' as const, namespace: ns, labels: pod(app).labels });
      expect(trafficAllowed(policies, dep('postgres'), 'Ingress', { kind: 'pod', namespace: ns, labels: migrate.labels }, 5432)).toBe(true);
      expect(trafficAllowed(policies, dep('postgres'), 'Ingress', appPeer('api'), 5432)).toBe(true);
      expect(trafficAllowed(policies, dep('postgres'), 'Ingress', externalPeer, 5432)).toBe(false);
      expect(trafficAllowed(policies, dep('redis'), 'Ingress', namespacePeer('keda'), 6379)).toBe(true);
      expect(trafficAllowed(policies, dep('mailpit'), 'Ingress', appPeer('mailer'), 1025)).toBe(true);
      expect(trafficAllowed(policies, dep('mailpit'), 'Ingress', appPeer('api'), 1025)).toBe(false);
      expect(egress('mailer', 1025, { kind: 'pod', namespace: ns, labels: dep('mailpit').labels })).toBe(true);
      expect(egress('api', 1025, { kind: 'pod', namespace: ns, labels: dep('mailpit').labels })).toBe(false);
    }
  });

  it('contains no real-looking secret', () => {
    for (const secret of ofKind(objects(), 'Secret')) {
      for (const [key, value] of Object.entries(secretData(secret))) expect([secret.metadata.name, key, realLookingSecret(value)]).toEqual([secret.metadata.name, key, undefined]);
    }
    // secrets never travel in the ConfigMap
    for (const cm of ofKind(objects(), 'ConfigMap').filter((c) => c.metadata.name.startsWith('mentor-zero-config'))) {
      expect(Object.keys(cm.data).filter((k) => /SECRET|PASSWORD|API_KEY|DATABASE_URL|REDIS_URL|SMTP_URL/.test(k))).toEqual([]);
    }
  });

  it('ships the Grafana dashboard for the sidecar to pick up', () => {
    const cm = get(objects(), 'ConfigMap', 'mentor-zero-grafana-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm.data['mentor-zero-dashboard.json'])).toEqual(JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')));
  });
});

describe('k8s overlays compared', () => {
  const dep = (o: Overlay, app: string) => get(rendered[o], 'Deployment', `mentor-zero-${app}`);
  const limit = (o: Overlay, app: string, r: 'cpu' | 'memory') => parseQuantity(podTemplate(dep(o, app)).spec.containers[0].resources.limits[r]);

  it('dev runs one replica of everything, with small resources and the dev image tag', () => {
    const dev = rendered.dev;
    expect(get(dev, 'Deployment', 'mentor-zero-scheduler').spec.replicas).toBe(1);
    expect(get(dev, 'HorizontalPodAutoscaler', 'mentor-zero-api').spec).toMatchObject({ minReplicas: 1, maxReplicas: 1 });
    for (const so of ofKind(dev, 'ScaledObject')) expect(so.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 1 });
    for (const d of appDeployments(dev)) expect(podTemplate(d).spec.containers[0].image).toMatch(/:dev$/);
  });

  it('prod runs more replicas with bigger resources', () => {
    const prod = rendered.prod;
    expect(get(prod, 'Deployment', 'mentor-zero-scheduler').spec.replicas).toBeGreaterThanOrEqual(2);
    expect(get(prod, 'HorizontalPodAutoscaler', 'mentor-zero-api').spec.minReplicas).toBeGreaterThanOrEqual(2);
    for (const so of ofKind(prod, 'ScaledObject')) expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    for (const app of SERVICE_APPS) {
      expect(limit('prod', app, 'memory')).toBeGreaterThan(limit('dev', app, 'memory'));
      expect(limit('prod', app, 'cpu')).toBeGreaterThan(limit('dev', app, 'cpu'));
    }
    const ingress = get(prod, 'Ingress', 'mentor-zero');
    // every host is served over https: the app, and mta-sts.<REPLY_DOMAIN> (RFC 8461 needs verified https)
    expect(ingress.spec.tls[0].hosts).toEqual(ingress.spec.rules.map((r: any) => r.host));
  });

  it('prod serves STARTTLS on the MX from a cert-manager Certificate; dev runs the MX without it, on purpose', () => {
    const prod = rendered.prod;
    const inbound = podTemplate(get(prod, 'Deployment', 'mentor-zero-inbound')).spec;
    const env = containerEnv(inbound.containers[0], prod, externalSecrets('prod'));
    const config = parseConfig(env);
    expect(env.INBOUND_TLS).toBeUndefined();
    expect(config.INBOUND_TLS_CERT_FILE).toBeDefined();
    const cert = get(prod, 'Certificate', 'mentor-zero-mx');
    // the certificate names every MX host the MTA-STS policy allows
    const mxHosts = (config.MTA_STS_MX ?? config.REPLY_DOMAIN).split(',').map((h) => h.trim().toLowerCase());
    expect([...cert.spec.dnsNames].sort()).toEqual([...mxHosts].sort());
    expect(cert.spec.issuerRef.kind).toBe('ClusterIssuer');
    // issued while the migration runs, before the inbound pods that mount it roll out
    expect(cert.metadata.labels?.['mentor-zero.io/deploy-phase']).toBe('pre-rollout');
    // mounted as a whole directory (a subPath mount never sees a renewal), read-only, holding both files
    const volume = inbound.volumes.find((v: any) => v.secret?.secretName === cert.spec.secretName);
    expect(volume).toBeDefined();
    const mount = inbound.containers[0].volumeMounts.find((m: any) => m.name === volume.name);
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount.subPath).toBeUndefined();
    expect(config.INBOUND_TLS_CERT_FILE).toBe(`${mount.mountPath}/tls.crt`);
    expect(config.INBOUND_TLS_KEY_FILE).toBe(`${mount.mountPath}/tls.key`);
    expect(volume.secret.defaultMode & 0o007).toBe(0); // the key is not world-readable
    // the other services share the configuration and need no certificate
    for (const app of ['api', 'scheduler', 'composer', 'mailer']) {
      const other = containerEnv(podTemplate(get(prod, 'Deployment', `mentor-zero-${app}`)).spec.containers[0], prod, externalSecrets('prod'));
      expect([app, other.INBOUND_TLS_CERT_FILE, other.INBOUND_TLS]).toEqual([app, undefined, undefined]);
    }

    const dev = rendered.dev;
    expect(find(dev, 'Certificate', 'mentor-zero-mx')).toBeUndefined();
    const devInbound = podTemplate(get(dev, 'Deployment', 'mentor-zero-inbound')).spec;
    const devEnv = containerEnv(devInbound.containers[0], dev);
    expect(devEnv.INBOUND_TLS).toBe('off');
    expect(devEnv.INBOUND_TLS_CERT_FILE).toBeUndefined();
    expect(devInbound.volumes.map((v: any) => v.name)).toEqual(['tmp']);
  });

  it('prod does not render the Secret: it is created out of band, and the example lists every key', () => {
    expect(find(rendered.prod, 'Secret', SECRET_NAME)).toBeUndefined();
    const example = exampleSecret();
    expect(example.metadata.annotations?.['config.kubernetes.io/local-config']).toBe('true');
    expect(validateObject(example)).toEqual([]);
    const exampleKeys = Object.keys(secretData(example)).sort();
    expect(exampleKeys).toEqual(Object.keys(secretData(get(rendered.dev, 'Secret', SECRET_NAME))).sort());
    for (const [key, value] of Object.entries(secretData(example))) expect([key, realLookingSecret(value)]).toEqual([key, undefined]);
    // Applied as it is, the example's placeholders stop every service in production, naming each one.
    const asIs = containerEnv(get(rendered.prod, 'Deployment', 'mentor-zero-api').spec.template.spec.containers[0], rendered.prod, { [SECRET_NAME]: secretData(example) });
    expect(() => parseConfig(asIs)).toThrow(/WEBHOOK_SECRET: is a value published in the repository[\s\S]*SESSION_SECRET: is a value published in the repository/);
  });

  it('the base renders on its own', () => {
    const base = renderKustomization(join(K8S_DIR, 'base'));
    expect(base.flatMap(validateObject)).toEqual([]);
    expect(find(base, 'Secret', SECRET_NAME)).toBeUndefined();
  });
});

describe('secret hygiene check', () => {
  it('flags values that look real and passes placeholders', () => {
    expect(realLookingSecret('sk-proj-abcdefghijklmnopqrstuvwx')).toMatch(/API key/);
    expect(realLookingSecret('postgres://mentor:s3cr3t-Pa55@db:5432/mentor')).toMatch(/password/);
    expect(realLookingSecret('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08')).toMatch(/placeholder/);
    expect(realLookingSecret('postgres://mentor:change-me@db:5432/mentor')).toBeUndefined();
    expect(realLookingSecret('redis://redis:6379')).toBeUndefined();
    expect(realLookingSecret('redis:6379')).toBeUndefined();
    expect(realLookingSecret('dev-only-session-secret-change-me-0000')).toBeUndefined();
    expect(realLookingSecret('')).toBeUndefined();
  });
});
