#!/usr/bin/env bash
# Deploys an overlay in the order plain kustomize cannot express (docs/operations.md#deploy):
#   1. render the overlay once (the same manifests for every step),
#   2. delete the previous migration Job (a Job's pod template is immutable),
#   3. apply the pre-rollout phase (namespace, config, secrets, network policies, the migration
#      Job, dev backing services), wait for backing services, then for the Job to complete,
#   4. apply everything and wait for every Deployment to finish rolling out.
# A failed migration stops here: the running release keeps serving, nothing new rolls out.
# Usage: k8s/deploy.sh dev|prod    (KUBECTL=… to use another kubectl; needs kubectl ≥ 1.27)
set -euo pipefail

overlay="${1:?usage: k8s/deploy.sh <overlay: dev|prod>}"
here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/overlays/$overlay"
kubectl="${KUBECTL:-kubectl}"
[[ -f "$dir/kustomization.yaml" ]] || { echo "deploy: no overlay at $dir" >&2; exit 2; }

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
"$kubectl" kustomize "$dir" > "$rendered"
ns="$(awk '/^namespace:/ { print $2; exit }' "$dir/kustomization.yaml")"
[[ -n "$ns" ]] || { echo "deploy: $dir/kustomization.yaml sets no namespace" >&2; exit 2; }

echo "deploy: $overlay → namespace $ns"
"$kubectl" -n "$ns" delete job mentor-zero-migrate --ignore-not-found --wait=true 2>/dev/null || true

"$kubectl" apply -f "$rendered" -l mentor-zero.io/deploy-phase=pre-rollout

# dev only: wait for the throwaway Postgres/Redis/Mailpit before migrating
for deploy in $("$kubectl" -n "$ns" get deployment -l mentor-zero.io/deploy-phase=pre-rollout -o name); do
  "$kubectl" -n "$ns" rollout status "$deploy" --timeout=5m
done

echo "deploy: waiting for the migration Job"
deadline=$((SECONDS + 900))
while :; do
  if "$kubectl" -n "$ns" wait --for=condition=complete job/mentor-zero-migrate --timeout=10s >/dev/null 2>&1; then
    break
  fi
  failed="$("$kubectl" -n "$ns" get job mentor-zero-migrate -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}')"
  if [[ "$failed" == "True" || $SECONDS -ge $deadline ]]; then
    echo "deploy: migration failed or timed out; the running release is untouched. Logs:" >&2
    "$kubectl" -n "$ns" logs job/mentor-zero-migrate --tail=100 >&2 || true
    exit 1
  fi
done

"$kubectl" apply -f "$rendered"
for deploy in $("$kubectl" -n "$ns" get deployment -l app.kubernetes.io/name=mentor-zero -o name); do
  "$kubectl" -n "$ns" rollout status "$deploy" --timeout=10m
done
echo "deploy: $overlay is rolled out"
