{{/*
Names are part of the contract with the services and the rpctl CLI (DESIGN §3, §5):
they derive from the release name only, so there is no nameOverride.
*/}}

{{- define "requests-proxy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A DNS label (Services, Deployments, …: at most 63 characters). A name that fits is kept as is; a
longer one is cut to 54 characters plus "-" and 8 hex digits of the whole name's hash, so two
long names that share a prefix (the proxy and its `-pods` Service at a 48–53 character release
name) never truncate to the same object.
*/}}
{{- define "requests-proxy.dnsLabel" -}}
{{- if le (len .) 63 -}}
{{- . -}}
{{- else -}}
{{- printf "%s-%s" (trunc 54 . | trimSuffix "-") (sha256sum . | trunc 8) -}}
{{- end -}}
{{- end -}}

{{- define "requests-proxy.proxyName" -}}
{{- include "requests-proxy.dnsLabel" (printf "%s-requests-proxy" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.jobsManagerName" -}}
{{- include "requests-proxy.dnsLabel" (printf "%s-jobs-manager" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.generatedKeysSecretName" -}}
{{- printf "%s-requests-proxy-keys" .Release.Name -}}
{{- end -}}

{{/* The keys Secret both pods mount: the operator's own (GitOps) or the chart's. */}}
{{- define "requests-proxy.keysSecretName" -}}
{{- .Values.requestsProxy.keys.existingSecret | default (include "requests-proxy.generatedKeysSecretName" .) -}}
{{- end -}}

{{- define "requests-proxy.revokedConfigMapName" -}}
{{- .Values.requestsProxy.revoked.existingConfigMap | default (printf "%s-requests-proxy-revoked" .Release.Name) -}}
{{- end -}}

{{/* The live legacy token digests every proxy mounts (DESIGN §12): the operator's own (GitOps) or the chart's. */}}
{{- define "requests-proxy.legacyTokensConfigMapName" -}}
{{- dig "legacyTokens" "existingConfigMap" "" .Values.requestsProxy | default (printf "%s-requests-proxy-legacy-tokens" .Release.Name) -}}
{{- end -}}

{{- /*
The legacyTokens values, read with dig: `helm upgrade --reuse-values` from a chart without them
(the flip itself, DESIGN §12) reuses the old release's values, which have no such block.
*/}}
{{- define "requests-proxy.legacyTokensPollSeconds" -}}
{{- dig "legacyTokens" "pollSeconds" 10 .Values.requestsProxy | int64 -}}
{{- end -}}

{{- define "requests-proxy.legacyTokenGraceSeconds" -}}
{{- dig "legacyTokens" "graceSeconds" 300 .Values.requestsProxy | int64 -}}
{{- end -}}

{{/*
The revocation list's ConfigMaps, one per shard, as a list of names: shard 0 is the original
ConfigMap (one shard is the single-ConfigMap layout), shard i is "<name>-i". Use with fromJsonArray.
*/}}
{{- define "requests-proxy.revokedConfigMapNames" -}}
{{- $name := include "requests-proxy.revokedConfigMapName" . -}}
{{- $names := list $name -}}
{{- range $i := untilStep 1 (int .Values.requestsProxy.revoked.shards) 1 -}}
{{- $names = append $names (printf "%s-%d" $name $i) -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* The jobs-manager's job ledger (jobs.json): the operator's own (GitOps) or the chart's. */}}
{{- define "requests-proxy.stateConfigMapName" -}}
{{- (dig "state" "existingConfigMap" "" .Values.jobsManager) | default (printf "%s-jobs-manager-state" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.adminSecretName" -}}
{{- .Values.adminToken.existingSecret | default (printf "%s-requests-proxy-admin" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.upstreamCredentialSecretName" -}}
{{- .Values.requestsProxy.upstream.credential.existingSecret | default (printf "%s-requests-proxy-upstream" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.hasUpstreamCredential" -}}
{{- if or .Values.requestsProxy.upstream.credential.existingSecret .Values.requestsProxy.upstream.credential.value -}}true{{- end -}}
{{- end -}}

{{- define "requests-proxy.upstreamCredentialFile" -}}
/etc/proxy/upstream/credential
{{- end -}}

{{/* The jobs-manager's Role in the release namespace: name-scoped rights on the chart's own objects only. */}}
{{- define "requests-proxy.roleName" -}}
{{- include "requests-proxy.jobsManagerName" . -}}
{{- end -}}

{{/*
The jobs-manager's Role in each job namespace (and, with clusterScope, the ClusterRole those
RoleBindings reference). Prefixed with the release namespace: two releases of the same name in
different namespaces may share a job namespace, and a ClusterRole's name is cluster-wide. Not a DNS
label, so no trunc.
*/}}
{{- define "requests-proxy.jobNamespaceRoleName" -}}
{{- printf "%s-%s-jobs-manager" .Release.Namespace .Release.Name -}}
{{- end -}}

{{/*
The job namespaces as a JSON list (use with fromJsonArray): jobNamespaces.names, or one namespace
"<release namespace>-jobs". The release namespace is refused: the jobs-manager's unscoped Secret
rights (create, update) must never reach the keys, the admin token or the upstream credential.
*/}}
{{- define "requests-proxy.jobNamespaces" -}}
{{- /* dig: a release upgraded with --reuse-values from a chart without jobNamespaces has no such key. */}}
{{- $names := dig "names" list (.Values.jobNamespaces | default dict) | default (list (include "requests-proxy.dnsLabel" (printf "%s-jobs" .Release.Namespace))) -}}
{{- if has .Release.Namespace $names -}}
{{- fail (printf "jobNamespaces.names: the release namespace %q cannot be a job namespace: the jobs-manager may create and replace Secrets in a job namespace, and this one holds the keys, the admin token and the upstream credential (docs/operations.md#job-namespaces)" .Release.Namespace) -}}
{{- end -}}
{{- if ne (len $names) (len (uniq $names)) -}}
{{- fail "jobNamespaces.names: a namespace is listed twice" -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{- define "requests-proxy.labels" -}}
app.kubernetes.io/name: requests-proxy
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "requests-proxy.versionLabels" . }}
{{- end -}}

{{/* The labels that are not selectors; pod templates add them to their selector labels. */}}
{{- define "requests-proxy.versionLabels" -}}
helm.sh/chart: {{ include "requests-proxy.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: requests-proxy
{{- end -}}

{{- define "requests-proxy.proxySelectorLabels" -}}
app.kubernetes.io/name: requests-proxy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: proxy
{{- end -}}

{{- define "requests-proxy.jobsManagerSelectorLabels" -}}
app.kubernetes.io/name: requests-proxy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: jobs-manager
{{- end -}}

{{- define "requests-proxy.image" -}}
{{- $registry := .image.registry -}}
{{- $ref := .image.repository -}}
{{- if $registry -}}{{- $ref = printf "%s/%s" $registry $ref -}}{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (.image.tag | default .appVersion) -}}
{{- end -}}
{{- end -}}

{{- define "requests-proxy.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "requests-proxy.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The YARP "ReverseProxy" section, with the proxy's route metadata (docs/architecture.md). */}}
{{- define "requests-proxy.routesJson" -}}
{{- $up := .Values.requestsProxy.upstream -}}
{{- $hasCredential := include "requests-proxy.hasUpstreamCredential" . -}}
{{- $routes := dict -}}
{{- $clusters := dict -}}
{{- range .Values.requestsProxy.routes -}}
{{- $address := .upstream | default $up.url -}}
{{- if not $address -}}
{{- fail (printf "requestsProxy.routes[%s]: set its upstream or requestsProxy.upstream.url" .name) -}}
{{- end -}}
{{- $clusterId := ternary (printf "route-%s" .name) "upstream" (not (empty .upstream)) -}}
{{- $match := dict "Path" .path -}}
{{- if .methods -}}{{- $_ := set $match "Methods" .methods -}}{{- end -}}
{{- $metadata := dict "RequiredScope" .requiredScope -}}
{{- if .subjectParameter -}}{{- $_ := set $metadata "SubjectParameter" .subjectParameter -}}{{- end -}}
{{- if .allowUpgrade -}}{{- $_ := set $metadata "AllowUpgrade" "true" -}}{{- end -}}
{{- with .limits -}}
{{- if hasKey . "requestsPerSecond" -}}{{- $_ := set $metadata "RateLimitPerSecond" (toString .requestsPerSecond) -}}{{- end -}}
{{- if and (hasKey . "burst") (gt (int .burst) 0) -}}{{- $_ := set $metadata "RateLimitBurst" (toString (int .burst)) -}}{{- end -}}
{{- if hasKey . "concurrent" -}}{{- $_ := set $metadata "ConcurrencyLimit" (toString (int .concurrent)) -}}{{- end -}}
{{- end -}}
{{- if and $hasCredential (ne .upstreamCredential false) -}}
{{- $_ := set $metadata "UpstreamCredentialFile" (include "requests-proxy.upstreamCredentialFile" $) -}}
{{- end -}}
{{- $route := dict "ClusterId" $clusterId "Match" $match "Metadata" $metadata -}}
{{- if .transforms -}}{{- $_ := set $route "Transforms" .transforms -}}{{- end -}}
{{- $_ := set $routes .name $route -}}
{{- $seconds := int $up.timeoutSeconds -}}
{{- $timeout := printf "%02d:%02d:%02d" (div $seconds 3600) (mod (div $seconds 60) 60) (mod $seconds 60) -}}
{{- $_ := set $clusters $clusterId (dict "Destinations" (dict "default" (dict "Address" $address)) "HttpRequest" (dict "ActivityTimeout" $timeout)) -}}
{{- end -}}
{{- dict "ReverseProxy" (dict "Routes" $routes "Clusters" $clusters) | toPrettyJson -}}
{{- end -}}


{{/*
The headless Service naming every proxy pod: in legacy mode each replica keeps its own
registry, so the jobs-manager registers every job's token with each pod it resolves here.
*/}}
{{- define "requests-proxy.proxyPodsName" -}}
{{- include "requests-proxy.dnsLabel" (printf "%s-requests-proxy-pods" .Release.Name) -}}
{{- end -}}

{{/*
The headless Service naming the legacy-mode proxy pods only (pod label requests-proxy.io/tokens:
legacy, set by the pod's own mode): the only pods the jobs-manager ever sends the admin token to.
*/}}
{{- define "requests-proxy.proxyLegacyPodsName" -}}
{{- include "requests-proxy.dnsLabel" (printf "%s-requests-proxy-legacy-pods" .Release.Name) -}}
{{- end -}}

{{/*
How the jobs-manager's Secret writes in the job namespaces are confined beyond RBAC
(docs/operations.md#job-namespaces): "policy" (ValidatingAdmissionPolicy, Kubernetes 1.30+),
"webhook" (the proxy pods' admission webhook, any version), or "none". secretAdmission.mode auto
picks the policy where the cluster serves admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy,
else the webhook. dig: a release upgraded with --reuse-values from a chart without the value has none.
*/}}
{{- define "requests-proxy.secretAdmission" -}}
{{- $mode := dig "mode" "auto" (.Values.secretAdmission | default dict) -}}
{{- if eq $mode "auto" -}}
{{- ternary "policy" "webhook" (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy") -}}
{{- else -}}
{{- $mode -}}
{{- end -}}
{{- end -}}

{{/*
The label (value "true") the chart puts on the job namespaces it creates; the webhook's
namespaceSelector matches it (kubernetes.io/metadata.name only exists from 1.21). One key per
release, "<release namespace>.jobs.requests-proxy.io/<release>": a namespace shared by two releases
carries both, and one release's webhook (and its outage) never reaches another's namespaces.
*/}}
{{- define "requests-proxy.jobNamespaceLabel" -}}
{{- printf "%s.jobs.requests-proxy.io/%s" .Release.Namespace .Release.Name -}}
{{- end -}}

{{/* The Service the apiserver calls the webhook through; the serving certificate is issued for its DNS names. */}}
{{- define "requests-proxy.webhookServiceName" -}}
{{- include "requests-proxy.dnsLabel" (printf "%s-requests-proxy-webhook" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.webhookTlsSecretName" -}}
{{- dig "webhook" "tls" "existingSecret" "" (.Values.secretAdmission | default dict) | default (printf "%s-requests-proxy-webhook-tls" .Release.Name) -}}
{{- end -}}

{{- define "requests-proxy.webhookPort" -}}
{{- dig "webhook" "port" 9443 (.Values.secretAdmission | default dict) | int64 -}}
{{- end -}}

{{/* The jobs-manager's user as the apiserver names it: the one the policy and the webhook judge. */}}
{{- define "requests-proxy.jobsManagerUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "requests-proxy.jobsManagerName" .) -}}
{{- end -}}

{{/*
The store ConfigMaps the jobs-manager owns in the release namespace, as a JSON list (use with fromJsonArray):
the revocation list's shards, the job ledger, the legacy token list. The one source of their names for the
jobs-manager's Role, its admission rule (the webhook's REQUESTS_PROXY_ADMISSION_STORE_CONFIGMAPS and the
ValidatingAdmissionPolicy) and the jobs-manager's own environment.
*/}}
{{- define "requests-proxy.storeConfigMapNames" -}}
{{- $names := include "requests-proxy.revokedConfigMapNames" . | fromJsonArray -}}
{{- $names = append $names (include "requests-proxy.stateConfigMapName" .) -}}
{{- $names = append $names (include "requests-proxy.legacyTokensConfigMapName" .) -}}
{{- toJson $names -}}
{{- end -}}

{{/*
Who creates a Job's pods, whom the pod admission rule lets name a job's token Secret: the Job controller's own
service account (kube-controller-manager --use-service-account-credentials, as kubeadm runs it) or the
controller manager's shared user.
*/}}
{{- define "requests-proxy.jobControllerUsers" -}}
{{- toJson (list "system:serviceaccount:kube-system:job-controller" "system:kube-controller-manager") -}}
{{- end -}}

{{/*
The label (value "true") that marks the release namespace for the ConfigMap webhook's namespaceSelector on
Kubernetes 1.20, which has no kubernetes.io/metadata.name: the chart does not own that namespace, so the
operator sets it (NOTES print the command); 1.21+ selects the namespace by name.
*/}}
{{- define "requests-proxy.releaseNamespaceLabel" -}}
{{- printf "%s.release.requests-proxy.io/%s" .Release.Namespace .Release.Name -}}
{{- end -}}

{{/* The webhooks' namespaceSelector of the job namespaces (indent it with nindent). */}}
{{- define "requests-proxy.jobNamespaceSelector" -}}
{{- if semverCompare ">=1.21.0-0" .Capabilities.KubeVersion.Version -}}
# The apiserver sets kubernetes.io/metadata.name on every namespace (1.21+) and nobody can change it: the job
# namespaces are covered whether or not the chart created them, and no label edit turns the webhook off.
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: In
    values: {{ include "requests-proxy.jobNamespaces" . }}
{{- else -}}
# 1.20 has no kubernetes.io/metadata.name: the label the chart gives the job namespaces it creates
# (label the others yourself: NOTES and docs/operations.md#job-namespaces say how).
matchLabels:
  {{ include "requests-proxy.jobNamespaceLabel" . }}: "true"
{{- end -}}
{{- end -}}

{{/* The webhooks' matchConditions that send only the jobs-manager's requests (1.28+; empty before). */}}
{{- define "requests-proxy.jobsManagerMatchConditions" -}}
{{- if semverCompare ">=1.28.0-0" .Capabilities.KubeVersion.Version -}}
# 1.28+ (matchConditions): only the jobs-manager's requests are sent, so an outage affects no one else.
matchConditions:
  - name: the-jobs-manager
    expression: {{ printf "request.userInfo.username == '%s'" (include "requests-proxy.jobsManagerUser" .) | quote }}
{{- end -}}
{{- end -}}

{{/*
CEL: the volume `v` hands no job's token Secret but `allowed` (a CEL expression) to a node volume plugin.
Arguments: plugins (list of (plugin, dotted path of the Secret's name)), suffix, allowed.
*/}}
{{- define "requests-proxy.nodePluginChecks" -}}
{{- $checks := list -}}
{{- range $p := .plugins -}}
{{- $plugin := index $p 0 -}}
{{- $parts := splitList "." (index $p 1) -}}
{{- $guards := list (printf "has(v.%s)" $plugin) -}}
{{- $path := printf "v.%s" $plugin -}}
{{- range $part := $parts -}}
{{- $path = printf "%s.%s" $path $part -}}
{{- $guards = append $guards (printf "has(%s)" $path) -}}
{{- end -}}
{{- $checks = append $checks (printf "(!(%s) || !%s.endsWith('%s') || %s == %s)" (join " && " $guards) $path $.suffix $path $.allowed) -}}
{{- end -}}
{{- join " && " $checks -}}
{{- end -}}
