{{/*
Operator arguments for upgrades and network policies (values upgrades.* and
networkPolicy.*), one per line, for the manager container's args.
*/}}
{{- define "pocketfleet.day2Args" -}}
{{- with .Values.upgrades }}
{{- if .maxConcurrent }}
- --max-concurrent-upgrades={{ .maxConcurrent }}
{{- end }}
{{- with .maintenanceWindow }}
- {{ printf "--maintenance-window=%s" . | quote }}
{{- end }}
{{- end }}
{{- with .Values.networkPolicy }}
{{- if .enabled }}
- --network-policy
- {{ printf "--network-policy-ingress-namespaces=%s" .ingressController.namespaceSelector | quote }}
- {{ printf "--network-policy-ingress-pods=%s" .ingressController.podSelector | quote }}
- --network-policy-operator-namespace={{ $.Release.Namespace }}
- {{ printf "--network-policy-monitoring-namespaces=%s" .monitoring.namespaceSelector | quote }}
- {{ printf "--network-policy-monitoring-pods=%s" .monitoring.podSelector | quote }}
{{- end }}
{{- end }}
{{- end }}
