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

package harness

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CountingClient wraps a client and counts the writes that go through it, by verb and kind,
// so a test can assert that a reconcile of a converged object writes nothing.
type CountingClient struct {
	client.Client
	mu     sync.Mutex
	writes []string
}

// NewCountingClient wraps c.
func NewCountingClient(c client.Client) *CountingClient { return &CountingClient{Client: c} }

func (c *CountingClient) record(verb string, obj any) {
	kind := "?"
	switch o := obj.(type) {
	case client.Object:
		if gvk, err := c.GroupVersionKindFor(o); err == nil {
			kind = gvk.Kind + " " + client.ObjectKeyFromObject(o).String()
		}
	case runtime.ApplyConfiguration:
		if u, ok := o.(interface{ GetKind() *string }); ok && u.GetKind() != nil {
			kind = *u.GetKind()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, verb+" "+kind)
}

// Writes returns the writes seen since the last Reset.
func (c *CountingClient) Writes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

// Reset forgets the writes seen so far.
func (c *CountingClient) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = nil
}

// Create counts and creates.
func (c *CountingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.record("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

// Update counts and updates.
func (c *CountingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.record("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}

// Patch counts and patches.
func (c *CountingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.record("patch", obj)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

// Apply counts and applies.
func (c *CountingClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	c.record("apply", obj)
	return c.Client.Apply(ctx, obj, opts...)
}

// Delete counts and deletes.
func (c *CountingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.record("delete", obj)
	return c.Client.Delete(ctx, obj, opts...)
}

// DeleteAllOf counts and deletes.
func (c *CountingClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	c.record("deleteAllOf", obj)
	return c.Client.DeleteAllOf(ctx, obj, opts...)
}

// Status counts the writes to the status subresource.
func (c *CountingClient) Status() client.SubResourceWriter {
	return &countingSubResource{SubResourceWriter: c.Client.Status(), c: c, name: "status"}
}

// SubResource counts the writes to a subresource.
func (c *CountingClient) SubResource(name string) client.SubResourceClient {
	sub := c.Client.SubResource(name)
	return &countingSubResourceClient{SubResourceReader: sub, countingSubResource: &countingSubResource{SubResourceWriter: sub, c: c, name: name}}
}

type countingSubResource struct {
	client.SubResourceWriter
	c    *CountingClient
	name string
}

func (s *countingSubResource) Create(ctx context.Context, obj client.Object, sub client.Object, opts ...client.SubResourceCreateOption) error {
	s.c.record(s.name+" create", obj)
	return s.SubResourceWriter.Create(ctx, obj, sub, opts...)
}

func (s *countingSubResource) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.c.record(s.name+" update", obj)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

func (s *countingSubResource) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.c.record(s.name+" patch", obj)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s *countingSubResource) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	s.c.record(s.name+" apply", obj)
	return s.SubResourceWriter.Apply(ctx, obj, opts...)
}

// countingSubResourceClient reads through the wrapped client and counts the writes.
type countingSubResourceClient struct {
	client.SubResourceReader
	*countingSubResource
}
