{{/*
The chart name, or nameOverride.
*/}}
{{- define "pocketfleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name every object is named after: "<release>-<chart>", or the release name alone
when it already contains the chart name. Truncated to 63 characters (DNS label).
*/}}
{{- define "pocketfleet.fullname" -}}
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
The chart label value: "<name>-<version>".
*/}}
{{- define "pocketfleet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object of the chart.
note: app.kubernetes.io/managed-by is Helm here. The tenants' children carry
"app.kubernetes.io/managed-by: pocketfleet", which the operator's caches select on.
*/}}
{{- define "pocketfleet.labels" -}}
helm.sh/chart: {{ include "pocketfleet.chart" . }}
{{ include "pocketfleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pocketfleet
{{- end }}

{{/*
Labels that identify this release of the chart.
*/}}
{{- define "pocketfleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pocketfleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels that select the operator pods (the Deployment selector: never change them, it is
immutable).
*/}}
{{- define "pocketfleet.managerSelectorLabels" -}}
{{ include "pocketfleet.selectorLabels" . }}
app.kubernetes.io/component: controller-manager
{{- end }}

{{/*
The ServiceAccount the operator runs as.
*/}}
{{- define "pocketfleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pocketfleet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
"true" when the operator elects a leader: when asked to, and always with several replicas.
*/}}
{{- define "pocketfleet.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/*
Namespace of the leader election Lease.
*/}}
{{- define "pocketfleet.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
The operator image.
*/}}
{{- define "pocketfleet.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The default instance image (--instance-image).
*/}}
{{- define "pocketfleet.instanceImage" -}}
{{- printf "%s:%s" .Values.instance.image.repository (default .Chart.AppVersion .Values.instance.image.tag) }}
{{- end }}

{{/*
Name of the port the metrics are served on.
*/}}
{{- define "pocketfleet.metricsPortName" -}}
{{- if .Values.metrics.secure }}https{{ else }}http{{ end }}
{{- end }}
