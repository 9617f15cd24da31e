/*
Copyright 2026 The cooperator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package logicalbackup

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// The pods that dump and restore a database (the hub's logical backups here, the co-ops'
// exports and imports in controllers/export) share their shape: a restricted pod without
// an API token whose init container and main container hand the dump over in an emptyDir.

// DumpDir is the emptyDir the dump is written to and read from.
const DumpDir = "/dump"

// postgresUID is the user the CloudNativePG PostgreSQL images run as.
const postgresUID = 26

// SecretEnv is the environment variable name set from key of the Secret secret.
func SecretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key,
	}}}
}

// Restricted is the security context of a container of these pods: no privilege
// escalation, a read-only root file system, no capabilities.
func Restricted() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// AsPostgres is Restricted, as the user of the PostgreSQL images.
func AsPostgres() *corev1.SecurityContext {
	c := Restricted()
	c.RunAsUser = ptr.To[int64](postgresUID)
	return c
}

// PodSpec is a restricted pod with the dump volume mounted at DumpDir, no API token, that
// runs init then main.
func PodSpec(init, main corev1.Container) corev1.PodSpec {
	mounts := []corev1.VolumeMount{{Name: "dump", MountPath: DumpDir}}
	init.VolumeMounts, main.VolumeMounts = mounts, mounts
	return corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		AutomountServiceAccountToken: ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Volumes:        []corev1.Volume{{Name: "dump", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		InitContainers: []corev1.Container{init},
		Containers:     []corev1.Container{main},
	}
}
