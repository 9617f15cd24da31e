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

package cooperative

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// barrierCreates holds every create until `together` creates are in flight at once (or
// gives up after a while, failing the create), and refuses the object named refuse.
type barrierCreates struct {
	client.Client
	together int
	refuse   string

	mu      sync.Mutex
	waiting int
	release chan struct{}
	created []string
}

func (c *barrierCreates) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.mu.Lock()
	c.waiting++
	if c.waiting == c.together {
		close(c.release)
	}
	c.mu.Unlock()
	select {
	case <-c.release:
	case <-time.After(20 * time.Second):
		return errors.New("created one at a time")
	}
	if obj.GetName() == c.refuse {
		return errors.New("refused " + obj.GetName())
	}
	c.mu.Lock()
	c.created = append(c.created, obj.GetName())
	c.mu.Unlock()
	return c.Client.Create(ctx, obj, opts...)
}

// Independent objects are applied at once, every one of them even when one fails, and the
// error is the first object's in order that failed.
func TestApplyIndependentAppliesAtOnce(t *testing.T) {
	var objs []client.Object
	for _, name := range []string{"a", "b", "c"} {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-x", Name: name}, Data: map[string]string{"k": name}})
	}
	c := &barrierCreates{Client: fake.NewClientBuilder().Build(), together: len(objs), refuse: "b", release: make(chan struct{})}
	r := &Reconciler{Client: c}
	err := r.applyIndependent(context.Background(), &scope{coop: testCoop()}, objs...)
	if err == nil || !strings.Contains(err.Error(), "refused b") {
		t.Errorf("error %v, want the refusal of b", err)
	}
	if len(c.created) != 2 {
		t.Errorf("created %v, want a and c", c.created)
	}
}
