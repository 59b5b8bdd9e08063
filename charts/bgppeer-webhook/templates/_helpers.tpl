{{/*
Chart name, truncated to a DNS label.
*/}}
{{- define "bgppeer-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the prefix of every object name, the Service name and the last segment of
the webhook names. A release whose name already contains the chart name is not repeated.
*/}}
{{- define "bgppeer-webhook.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart label value.
*/}}
{{- define "bgppeer-webhook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "bgppeer-webhook.labels" -}}
helm.sh/chart: {{ include "bgppeer-webhook.chart" . }}
{{ include "bgppeer-webhook.instanceLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bgppeer-webhook
{{- end }}

{{/*
Labels naming this release of the chart.
*/}}
{{- define "bgppeer-webhook.instanceLabels" -}}
app.kubernetes.io/name: {{ include "bgppeer-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels that select the webhook pods (immutable in a Deployment: never change them). The component
label keeps the `helm test` Pod out of the Service, the PodDisruptionBudget and the NetworkPolicy.
*/}}
{{- define "bgppeer-webhook.selectorLabels" -}}
{{ include "bgppeer-webhook.instanceLabels" . }}
app.kubernetes.io/component: webhook
{{- end }}

{{/*
Name of the webhook pods' ServiceAccount.
*/}}
{{- define "bgppeer-webhook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bgppeer-webhook.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Whether the webhook pods get a ServiceAccount token: always with cluster checks (they read the
API), otherwise only when asked for.
*/}}
{{- define "bgppeer-webhook.automountToken" -}}
{{- or .Values.automountServiceAccountToken .Values.clusterChecks.enabled }}
{{- end }}

{{/*
Container image reference: by digest when one is given, else by tag (default: appVersion).
*/}}
{{- define "bgppeer-webhook.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Webhook names. The kube-apiserver requires fully qualified names (at least three DNS segments); the
fullname is a DNS label, so these always have exactly three. The denial message a user sees starts
with `admission webhook "<name>" denied the request`, which is also how `selftest` recognises it.
*/}}
{{- define "bgppeer-webhook.validatingWebhookName" -}}
validate.bgppeers.{{ include "bgppeer-webhook.fullname" . }}
{{- end }}

{{- define "bgppeer-webhook.mutatingWebhookName" -}}
mutate.bgppeers.{{ include "bgppeer-webhook.fullname" . }}
{{- end }}

{{/*
Name of the Secret the pods mount (tls.crt, tls.key): the chart's own in helm and certManager modes,
the user's in secret mode.
*/}}
{{- define "bgppeer-webhook.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- .Values.tls.secretName }}
{{- else }}
{{- printf "%s-tls" (include "bgppeer-webhook.fullname" .) }}
{{- end }}
{{- end }}

{{/*
DNS names the kube-apiserver may use for the Service (it uses "<svc>.<ns>.svc").
*/}}
{{- define "bgppeer-webhook.serviceDNSNames" -}}
{{- $svc := include "bgppeer-webhook.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.tls.clusterDomain) | toJson }}
{{- end }}

{{/*
helm mode: the CA and serving certificate as base64 strings {ca, crt, key}.

On upgrade the existing Secret is reused (looked up in the cluster), so `helm upgrade` never rotates
the CA under running pods. Otherwise a new CA and a certificate for every Service DNS name are
generated. `helm template` and `--dry-run=client` have no cluster: lookup returns nothing there and
each run generates new material.

The result is computed once per render and kept under .Values.tls.helm, so the Secret and both
webhook configurations (separate templates) carry the same CA.
*/}}
{{- define "bgppeer-webhook.helmTLS" -}}
{{- if not (hasKey .Values.tls.helm "generated") }}
{{- $secretName := include "bgppeer-webhook.tlsSecretName" . }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $secretName }}
{{- $data := dict }}
{{- if $existing }}
{{- $data = $existing.data | default dict }}
{{- end }}
{{- if and (get $data "ca.crt") (get $data "tls.crt") (get $data "tls.key") }}
{{- $_ := set .Values.tls.helm "generated" (dict "ca" (get $data "ca.crt") "crt" (get $data "tls.crt") "key" (get $data "tls.key")) }}
{{- else }}
{{- $fullname := include "bgppeer-webhook.fullname" . }}
{{- $days := int .Values.tls.helm.validityDays }}
{{- $ca := genCA (printf "%s-ca" $fullname) $days }}
{{- $dnsNames := include "bgppeer-webhook.serviceDNSNames" . | fromJsonArray }}
{{- $cert := genSignedCert (printf "%s.%s.svc" $fullname .Release.Namespace) nil $dnsNames $days $ca }}
{{- $_ := set .Values.tls.helm "generated" (dict "ca" ($ca.Cert | b64enc) "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc)) }}
{{- end }}
{{- end }}
{{- .Values.tls.helm.generated | toJson }}
{{- end }}

{{/*
The caBundle of both webhook configurations (base64 PEM), or nothing in certManager mode, where
cert-manager's CA injector owns the field (rendering it would make GitOps tools fight the injector).
*/}}
{{- define "bgppeer-webhook.caBundle" -}}
{{- if eq .Values.tls.mode "helm" }}
{{- (include "bgppeer-webhook.helmTLS" . | fromJson).ca }}
{{- else if eq .Values.tls.mode "secret" }}
{{- .Values.tls.caBundle | b64enc }}
{{- end }}
{{- end }}

{{/*
Annotations of both webhook configurations.
*/}}
{{- define "bgppeer-webhook.webhookAnnotations" -}}
{{- $annotations := deepCopy .Values.webhook.annotations }}
{{- if eq .Values.tls.mode "certManager" }}
{{- $_ := set $annotations "cert-manager.io/inject-ca-from" (printf "%s/%s" .Release.Namespace (include "bgppeer-webhook.tlsSecretName" .)) }}
{{- end }}
{{- if $annotations -}}
annotations:
  {{- toYaml $annotations | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Rules shared by both webhook configurations: BGPPeers in both API groups, on CREATE and UPDATE.
*/}}
{{- define "bgppeer-webhook.rules" -}}
- apiGroups: ["crd.projectcalico.org"]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: ["bgppeers"]
  scope: Cluster
- apiGroups: ["projectcalico.org"]
  apiVersions: ["v3"]
  operations: ["CREATE", "UPDATE"]
  resources: ["bgppeers"]
  scope: Cluster
{{- end }}

{{/*
Settings shared by both webhooks. Argument: dict "root" $ "path" "/validate" or "/mutate".
*/}}
{{- define "bgppeer-webhook.webhookCommon" -}}
{{- $root := .root -}}
admissionReviewVersions: ["v1"]
sideEffects: None
matchPolicy: Equivalent
failurePolicy: {{ $root.Values.webhook.failurePolicy }}
timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
{{- with $root.Values.webhook.objectSelector }}
objectSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
clientConfig:
  service:
    name: {{ include "bgppeer-webhook.fullname" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: {{ .path }}
    port: {{ $root.Values.service.port }}
  {{- with include "bgppeer-webhook.caBundle" $root }}
  caBundle: {{ . }}
  {{- end }}
rules:
  {{- include "bgppeer-webhook.rules" $root | nindent 2 }}
{{- end }}

{{/*
Checks of value combinations the schema cannot express. Included by the Deployment, so every
render runs them.
*/}}
{{- define "bgppeer-webhook.validateValues" -}}
{{- $shutdown := add (int .Values.server.shutdownDelaySeconds) (int .Values.server.drainTimeoutSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) $shutdown }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be larger than server.shutdownDelaySeconds + server.drainTimeoutSeconds (%d): otherwise the pod is killed before in-flight admission requests finish" (int .Values.terminationGracePeriodSeconds) $shutdown) }}
{{- end }}
{{- if eq (int .Values.ports.webhook) (int .Values.ports.metrics) }}
{{- fail (printf "ports.webhook and ports.metrics are both %d: the webhook (HTTPS) and metrics (HTTP) listeners need different ports" (int .Values.ports.webhook)) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- if lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas) }}
{{- fail (printf "autoscaling.maxReplicas (%d) is smaller than autoscaling.minReplicas (%d): set maxReplicas to at least minReplicas" (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- end }}
{{- if not (and .Values.resources .Values.resources.requests .Values.resources.requests.cpu) }}
{{- fail "autoscaling.enabled needs resources.requests.cpu: the HorizontalPodAutoscaler scales on CPU use as a percentage of that request" }}
{{- end }}
{{- end }}
{{- if include "bgppeer-webhook.pdbEnabled" . }}
{{- $minAvailable := .Values.podDisruptionBudget.minAvailable }}
{{- $pods := int (include "bgppeer-webhook.minReplicas" .) }}
{{- $needed := 0 }}
{{- if kindIs "string" $minAvailable }}
{{- /* Kubernetes rounds a percentage up: 50% of 3 pods is 2. */}}
{{- $needed = div (add (mul (int (trimSuffix "%" $minAvailable)) $pods) 99) 100 }}
{{- else }}
{{- $needed = int $minAvailable }}
{{- end }}
{{- if ge (int $needed) $pods }}
{{- fail (printf "podDisruptionBudget.minAvailable (%v) means %d of the %d pods (%s) must stay available: none could be evicted and node drains would block; lower it so at least one pod may be evicted" $minAvailable (int $needed) $pods (ternary "autoscaling.minReplicas" "replicaCount" .Values.autoscaling.enabled)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The fewest webhook pods the release runs: autoscaling.minReplicas with autoscaling, else
replicaCount.
*/}}
{{- define "bgppeer-webhook.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- int .Values.autoscaling.minReplicas }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/*
Whether the PodDisruptionBudget is rendered: enabled, and at least 2 pods at all times (with 1, any
minAvailable that protects something would block every node drain). Empty when not.
*/}}
{{- define "bgppeer-webhook.pdbEnabled" -}}
{{- if and .Values.podDisruptionBudget.enabled (ge (int (include "bgppeer-webhook.minReplicas" .)) 2) }}true{{- end }}
{{- end }}

{{/*
imagePullPolicy of every container: image.pullPolicy when set, else Always for the mutable tag
"latest" (so a node never runs a stale image) and IfNotPresent for a version tag or a digest
(immutable: a cached image is the right one, and a pod restart does not need the registry).
*/}}
{{- define "bgppeer-webhook.pullPolicy" -}}
{{- if .Values.image.pullPolicy }}
{{- .Values.image.pullPolicy }}
{{- else if and (not .Values.image.digest) (eq (default .Chart.AppVersion .Values.image.tag) "latest") }}
{{- "Always" }}
{{- else }}
{{- "IfNotPresent" }}
{{- end }}
{{- end }}

{{/*
checkov (`make checkov-scan`) skip annotations: each names a check this render does not meet and
why. Argument: dict "root" $ "pod" "webhook" or "test". Only the checks that fail for the values
given are skipped; an empty result renders nothing.
*/}}
{{- define "bgppeer-webhook.checkovSkips" -}}
{{- $root := .root }}
{{- $skips := list }}
{{- $pullPolicy := include "bgppeer-webhook.pullPolicy" $root }}
{{- if ne $pullPolicy "Always" }}
{{- $skips = append $skips (printf "CKV_K8S_15=image pull policy %s: the tag is a version (or the image a digest), which never changes, and Always would make every pod start depend on the registry, so a registry outage would stop BGPPeer writes (failurePolicy Fail); set image.pullPolicy to override" $pullPolicy) }}
{{- end }}
{{- if not $root.Values.image.digest }}
{{- $skips = append $skips "CKV_K8S_43=the image is referenced by version tag: the project publishes no image whose digest the chart could pin; set image.digest to pull by digest" }}
{{- end }}
{{- if eq .pod "webhook" }}
{{- if eq (include "bgppeer-webhook.automountToken" $root) "true" }}
{{- $skips = append $skips "CKV_K8S_38=the token is needed: the cluster checks (clusterChecks.enabled) watch BGPFilters, BGPPeers, BGPConfigurations and Nodes with read-only RBAC; without them no token is mounted" }}
{{- end }}
{{- if not $root.Values.networkPolicy.enabled }}
{{- $skips = append $skips "CKV2_K8S_6=the NetworkPolicy is opt-in (networkPolicy.enabled): the API server's address and the monitoring pods' labels differ by cluster, and a policy guessing them wrong would cut the cluster checks or metrics" }}
{{- end }}
{{- else }}
{{- $skips = append $skips "CKV_K8S_38=the token is needed: selftest dry-run-creates BGPPeers through the Kubernetes API, with RBAC allowing only create on bgppeers" }}
{{- $skips = append $skips "CKV_K8S_8=a helm test pod that runs to completion in seconds (restartPolicy Never): there is no long-running server to probe" }}
{{- $skips = append $skips "CKV_K8S_9=a helm test pod that runs to completion in seconds (restartPolicy Never): there is no long-running server to probe" }}
{{- $skips = append $skips "CKV2_K8S_6=the helm test pod runs for seconds, only during `helm test`, and only calls the Kubernetes API; the chart's NetworkPolicy covers the webhook pods" }}
{{- end }}
{{- range $index, $skip := $skips }}
{{ printf "checkov.io/skip%d" (add1 $index) }}: {{ $skip | quote }}
{{- end }}
{{- end }}

{{/*
Non-empty when the periodic audit runs: cluster checks on and an interval other than "0".
*/}}
{{- define "bgppeer-webhook.auditEnabled" -}}
{{- if and .Values.clusterChecks.enabled .Values.audit.interval (ne (toString .Values.audit.interval) "0") -}}
true
{{- end -}}
{{- end }}
