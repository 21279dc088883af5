{{- define "llm-orchestrator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "llm-orchestrator.fullname" -}}
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

{{- define "llm-orchestrator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llm-orchestrator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "llm-orchestrator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "llm-orchestrator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "llm-orchestrator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "llm-orchestrator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "llm-orchestrator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The gRPC and metrics ports, read from the config the server will load (its defaults when unset). */}}
{{- define "llm-orchestrator.grpcPort" -}}
{{- $server := default dict .Values.config.server }}
{{- hasKey $server "port" | ternary $server.port 50051 | int }}
{{- end }}

{{- define "llm-orchestrator.metricsPort" -}}
{{- $server := default dict .Values.config.server }}
{{- hasKey $server "metrics_port" | ternary $server.metrics_port 9464 | int }}
{{- end }}

{{/*
Worker processes: config.server.workers when set, else the container's CPUs: resources.limits.cpu, else
resources.requests.cpu (the chart sets no CPU limit by default), rounded up, at least 1. Without this the
server would count the node's CPUs, and every worker loads its own copy of the embedded model.
*/}}
{{- define "llm-orchestrator.workers" -}}
{{- $server := default dict .Values.config.server }}
{{- if not (kindIs "invalid" $server.workers) }}
{{- $server.workers | int }}
{{- else }}
{{- $resources := default dict .Values.resources }}
{{- $cpu := dig "limits" "cpu" (dig "requests" "cpu" "1" $resources) $resources | toString }}
{{- if hasSuffix "m" $cpu }}
{{- div (add (trimSuffix "m" $cpu | int) 999) 1000 | max 1 }}
{{- else }}
{{- $cpu | float64 | ceil | int | max 1 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Seconds from SIGTERM until the process exits at the latest: the drain, then the grace for in-flight calls. */}}
{{- define "llm-orchestrator.shutdownSeconds" -}}
{{- $server := default dict .Values.config.server }}
{{- $drain := hasKey $server "drain_seconds" | ternary $server.drain_seconds 0 }}
{{- $grace := hasKey $server "grace_seconds" | ternary $server.grace_seconds 30 }}
{{- addf $drain $grace | ceil | int }}
{{- end }}

{{- define "llm-orchestrator.terminationGracePeriodSeconds" -}}
{{- $needed := include "llm-orchestrator.shutdownSeconds" . | int }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $needed .Values.terminationGraceMarginSeconds }}
{{- else if lt (int .Values.terminationGracePeriodSeconds) $needed }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must cover config.server.drain_seconds + grace_seconds (%d)" .Values.terminationGracePeriodSeconds $needed) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds | int }}
{{- end }}
{{- end }}

{{/*
The Secret-backed variables: [{env, secret}], from the well-known entries and secrets.extra.
*/}}
{{- define "llm-orchestrator.secretEnv" -}}
{{- $known := dict "OPENAI_API_KEY" .Values.secrets.openaiApiKey "ANTHROPIC_API_KEY" .Values.secrets.anthropicApiKey "ORCHESTRATOR_REDIS_URL" .Values.secrets.redisUrl "ORCHESTRATOR_POSTGRES_DSN" .Values.secrets.postgresDsn }}
{{- $all := merge (deepCopy .Values.secrets.extra) $known }}
{{- range $name := keys $all | sortAlpha }}
{{- $ref := get $all $name }}
{{- if $ref.name }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
      {{- if hasKey $ref "optional" }}
      optional: {{ $ref.optional }}
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The configuration file: .Values.config plus the ${env:...} references for the Secrets that are set.
*/}}
{{- define "llm-orchestrator.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $server := default dict $config.server }}
{{- $_ := set $server "workers" (include "llm-orchestrator.workers" . | int) }}
{{- $_ := set $config "server" $server }}
{{- if .Values.secrets.redisUrl.name }}
{{- $shared := default dict $config.shared_state }}
{{- $_ := set $shared "redis_url" "${env:ORCHESTRATOR_REDIS_URL}" }}
{{- $_ := set $config "shared_state" $shared }}
{{- end }}
{{- if .Values.secrets.postgresDsn.name }}
{{- range $section := list "templates" "knowledge" }}
{{- $settings := default dict (get $config $section) }}
{{- $store := default dict $settings.store }}
{{- $_ := set $store "type" "postgres" }}
{{- $_ := set $store "dsn" "${env:ORCHESTRATOR_POSTGRES_DSN}" }}
{{- $_ := unset $store "path" }}
{{- $_ := set $settings "store" $store }}
{{- $_ := set $config $section $settings }}
{{- end }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* Series of this release, for alert expressions (the ServiceMonitor's job is the Service's name). */}}
{{- define "llm-orchestrator.seriesSelector" -}}
namespace="{{ .Release.Namespace }}",job="{{ include "llm-orchestrator.fullname" . }}"
{{- end }}

{{/* The templates ConfigMap's data: the seed templates (files/prompt-templates) and promptTemplates.files. */}}
{{- define "llm-orchestrator.promptTemplates" -}}
{{- $files := dict }}
{{- if .Values.promptTemplates.includeSeed }}
{{- range $path, $_ := .Files.Glob "files/prompt-templates/*.yaml" }}
{{- $_ := set $files (base $path) ($.Files.Get $path) }}
{{- end }}
{{- end }}
{{- range $file, $template := .Values.promptTemplates.files }}
{{- $_ := set $files $file (toYaml $template) }}
{{- end }}
{{- range $file := keys $files | sortAlpha }}
{{ $file }}: |
  {{- get $files $file | nindent 2 }}
{{- end }}
{{- end }}
