{{/* Names ------------------------------------------------------------------ */}}

{{- define "vreg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vreg.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<component>; call with (dict "root" $ "component" "gateway"). */}}
{{- define "vreg.componentName" -}}
{{- printf "%s-%s" (include "vreg.fullname" .root | trunc 54 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "vreg.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vreg.secretName" -}}
{{- default (printf "%s-secrets" (include "vreg.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "vreg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vreg.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels ----------------------------------------------------------------- */}}

{{- define "vreg.labels" -}}
helm.sh/chart: {{ include "vreg.chart" . }}
{{ include "vreg.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vreg
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "vreg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vreg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* (dict "root" $ "component" "gateway") */}}
{{- define "vreg.componentLabels" -}}
{{ include "vreg.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vreg.componentSelectorLabels" -}}
{{ include "vreg.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image ------------------------------------------------------------------ */}}

{{- define "vreg.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Settings ---------------------------------------------------------------- */}}

{{/*
Keys that are credentials: they live in the Secret only, never in a ConfigMap.
*/}}
{{- define "vreg.secretKeys" -}}
VREG_SECRET_KEY VREG_ADMIN_TOKEN VREG_MONGO_URL VREG_S3_ACCESS_KEY_ID VREG_S3_SECRET_ACCESS_KEY
{{- end -}}

{{/*
Plain settings of one component, as a YAML map for its ConfigMap: only the
variables that component's config schema reads, plus the component's `env`.
(dict "root" $ "component" "gateway")
*/}}
{{/*
The container port name /metrics, /healthz and /readyz are served on: "ops" (the
listener of VREG_OPS_LISTEN, metrics.opsPort) or, with metrics.opsPort 0, "http".
*/}}
{{- define "vreg.opsPortName" -}}
{{- if gt (int .Values.metrics.opsPort) 0 }}ops{{ else }}http{{ end -}}
{{- end -}}

{{/*
Whether a component has a public port of its own: the fetcher has no other HTTP
surface than its ops listener.
*/}}
{{- define "vreg.hasHttpPort" -}}
{{- if or (ne .component "fetcher") (eq (int .root.Values.metrics.opsPort) 0) }}true{{ end -}}
{{- end -}}

{{- define "vreg.componentConfig" -}}
{{- $v := .root.Values -}}
{{- $c := index $v .component -}}
{{- $secretKeys := splitList " " (include "vreg.secretKeys" .root) -}}
{{- range $key, $_ := $c.env -}}
{{- if has $key $secretKeys -}}
{{- fail (printf "%s.env.%s is a credential: set it through secrets (or secrets.existingSecret), never in a ConfigMap" $.component $key) -}}
{{- end -}}
{{- if not (regexMatch "^VREG_[A-Z0-9_]+$" $key) -}}
{{- fail (printf "%s.env.%s: only VREG_* settings belong here" $.component $key) -}}
{{- end -}}
{{- end -}}
{{- $cfg := dict
  "VREG_LOG_LEVEL" $v.config.logLevel
  "VREG_NAMESPACE" $v.config.namespace
  "VREG_NATS_URL" $v.nats.url
  "VREG_NATS_REPLICAS" (toString $v.nats.replicas)
  "VREG_NATS_STREAM_MAX_BYTES" (toString (int64 $v.nats.streams.maxBytes))
  "VREG_NATS_STREAM_MAX_MSGS" (toString (int64 $v.nats.streams.maxMessages))
  "VREG_NATS_STREAM_MAX_AGE_MS" (toString (int64 $v.nats.streams.maxAgeMs))
  "VREG_LISTEN" (printf "0.0.0.0:%v" $c.port)
-}}
{{- /* Every component reads the bucket: the gateway and fetcher write objects, the catalog's GC deletes them. */ -}}
{{- if or (eq .component "gateway") (eq .component "fetcher") (eq .component "catalog") -}}
{{- $_ := set $cfg "VREG_S3_REGION" $v.s3.region -}}
{{- $_ := set $cfg "VREG_S3_BUCKET" $v.s3.bucket -}}
{{- $_ := set $cfg "VREG_S3_FORCE_PATH_STYLE" (toString $v.s3.forcePathStyle) -}}
{{- $_ := set $cfg "VREG_S3_CREATE_BUCKET" (toString $v.s3.createBucket) -}}
{{- $_ := set $cfg "VREG_S3_PART_SIZE_MIB" (toString $v.s3.partSizeMiB) -}}
{{- with $v.s3.endpoint }}{{ $_ := set $cfg "VREG_S3_ENDPOINT" . }}{{ end -}}
{{- end -}}
{{- if eq .component "catalog" -}}
{{- $_ := set $cfg "VREG_MONGO_DB" $v.mongodb.database -}}
{{- end -}}
{{- if gt (int $v.metrics.opsPort) 0 -}}
{{- $_ := set $cfg "VREG_OPS_LISTEN" (printf "0.0.0.0:%v" $v.metrics.opsPort) -}}
{{- end -}}
{{- if eq .component "gateway" -}}
{{- $_ := set $cfg "VREG_SPOOL_DIR" "/spool" -}}
{{- $_ := set $cfg "VREG_WORKERS" (toString (default 1 $c.workers)) -}}
{{- $_ := set $cfg "VREG_MAX_CONNECTIONS" (toString (int64 $c.maxConnections)) -}}
{{- $_ := set $cfg "VREG_BLOB_MEMORY_CACHE_BYTES" (toString (int64 $c.blobMemoryCacheBytes)) -}}
{{- end -}}
{{- range $key, $value := $c.env -}}
{{- $_ := set $cfg $key (toString $value) -}}
{{- end -}}
{{- if $v.otel.enabled -}}
{{- $_ := set $cfg "OTEL_SERVICE_NAME" (printf "vreg-%s" .component) -}}
{{- $_ := set $cfg "OTEL_EXPORTER_OTLP_ENDPOINT" (required "otel.endpoint is required when otel.enabled" $v.otel.endpoint) -}}
{{- $_ := set $cfg "OTEL_EXPORTER_OTLP_PROTOCOL" $v.otel.protocol -}}
{{- $_ := set $cfg "OTEL_RESOURCE_ATTRIBUTES" (printf "service.namespace=%s,deployment.environment.name=%s" .root.Release.Name .root.Release.Namespace) -}}
{{- range $key, $value := $v.otel.env -}}
{{- $_ := set $cfg $key (toString $value) -}}
{{- end -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
Credentials one component reads from the Secret: key → optional.
*/}}
{{- define "vreg.componentSecretKeys" -}}
{{- $keys := dict "VREG_SECRET_KEY" false -}}
{{- if eq .component "catalog" -}}
{{- $_ := set $keys "VREG_ADMIN_TOKEN" false -}}
{{- $_ := set $keys "VREG_MONGO_URL" false -}}
{{- end -}}
{{- /* S3 keys for every component: the catalog's GC deletes objects too. */ -}}
{{- $v := .root.Values -}}
{{- if $v.secrets.existingSecret -}}
{{- $_ := set $keys "VREG_S3_ACCESS_KEY_ID" true -}}
{{- $_ := set $keys "VREG_S3_SECRET_ACCESS_KEY" true -}}
{{- else if or $v.s3.accessKeyId $v.s3.secretAccessKey -}}
{{- $_ := set $keys "VREG_S3_ACCESS_KEY_ID" false -}}
{{- $_ := set $keys "VREG_S3_SECRET_ACCESS_KEY" false -}}
{{- end -}}
{{- toYaml $keys -}}
{{- end -}}

{{/* The three components, in start order. */}}
{{- define "vreg.components" -}}
catalog fetcher gateway
{{- end -}}
