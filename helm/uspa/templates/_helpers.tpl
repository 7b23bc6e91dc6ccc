{{/*
Name of the operator and of its namespaced objects (Deployment, ServiceAccount, Role, Service
uspa-operator-metrics, …). Fixed: the operator's Lease is always uspa-operator, so one operator
per namespace.
*/}}
{{- define "uspa.name" -}}
uspa-operator
{{- end -}}

{{/*
Name of the cluster-scoped objects (ClusterRole, ClusterRoleBinding): they carry the release's
namespace and name, so two releases never share or overwrite them.
*/}}
{{- define "uspa.clusterName" -}}
{{- printf "uspa-operator-%s-%s" .Release.Namespace .Release.Name | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "uspa.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the operator's pods (immutable in the Deployment: never change them). */}}
{{- define "uspa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "uspa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" | quote }}
{{- end -}}

{{/* Labels of every object the chart creates. */}}
{{- define "uspa.labels" -}}
{{ include "uspa.selectorLabels" . }}
app.kubernetes.io/part-of: uspa
app.kubernetes.io/component: operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "uspa.chart" . }}
{{- end -}}

{{/* The operator's ServiceAccount. */}}
{{- define "uspa.serviceAccountName" -}}
{{- default (include "uspa.name" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The operator's image: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "uspa.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the ClickHouse password: the user's, or the one the chart creates. */}}
{{- define "uspa.clickhouseSecretName" -}}
{{- if .Values.clickhouse.existingSecret -}}
{{- .Values.clickhouse.existingSecret -}}
{{- else -}}
{{- printf "%s-clickhouse" (include "uspa.name" .) -}}
{{- end -}}
{{- end -}}

{{/*
Values keys that were removed or renamed: setting one fails the render (install, upgrade, template)
with what replaced it, instead of being silently ignored. values.schema.json admits these keys so
that this message, not a generic "not allowed", is what the user reads.
*/}}
{{- define "uspa.removedValues" -}}
{{- $removed := dict "workloadImage" "workloads.image (chart 0.2.0)" -}}
{{- range $key, $replacement := $removed -}}
{{- if hasKey $.Values $key -}}
{{- fail (printf "values: %s was removed; use %s instead" $key $replacement) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
USPA_WORKLOADS: how the operator sets up the pods it runs (operator/manifests/policy.ts), as JSON.
The image travels apart (USPA_IMAGE); pull policy and pull secrets default to the operator's.
*/}}
{{- define "uspa.workloads" -}}
{{- $w := omit .Values.workloads "image" -}}
{{- $_ := set $w "imagePullPolicy" (default .Values.image.pullPolicy .Values.workloads.imagePullPolicy) -}}
{{- $_ = set $w "imagePullSecrets" (default .Values.imagePullSecrets .Values.workloads.imagePullSecrets) -}}
{{- toJson $w -}}
{{- end -}}

{{/* KAFKA_BROKERS: the list joined with commas, or the string as given. */}}
{{- define "uspa.kafkaBrokers" -}}
{{- $brokers := .Values.kafka.brokers -}}
{{- if kindIs "slice" $brokers -}}
{{- join "," $brokers -}}
{{- else -}}
{{- $brokers | toString | nospace -}}
{{- end -}}
{{- end -}}
