{{/*
Labels of every object of the chart.
*/}}
{{- define "cooperator.labels" -}}
app.kubernetes.io/name: cooperator
app.kubernetes.io/part-of: cooperator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/*
Selector labels of the operator's pods.
*/}}
{{- define "cooperator.selectorLabels" -}}
app.kubernetes.io/name: cooperator
app.kubernetes.io/component: controller-manager
{{- end }}

{{/*
The operator's namespace: hub.operatorNamespace, or the release namespace.
*/}}
{{- define "cooperator.operatorNamespace" -}}
{{- default .Release.Namespace .Values.hub.operatorNamespace }}
{{- end }}

{{/*
The hub's settings as the operator reads them (--config).
*/}}
{{- define "cooperator.hubConfig" -}}
{{- $hub := deepCopy .Values.hub }}
{{- $_ := set $hub "operatorNamespace" (include "cooperator.operatorNamespace" .) }}
{{- if not $hub.platformImage }}
{{- $_ := set $hub "platformImage" (include "cooperator.image" .) }}
{{- end }}
{{- toYaml $hub }}
{{- end }}

{{/*
The operator's image; the platform service runs the same one by default.
*/}}
{{- define "cooperator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
