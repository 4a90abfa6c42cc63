package controller

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoapply "k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	pbapply "github.com/pocketfleet/pocketfleet/api/v1alpha1/applyconfiguration"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// fakeClient starts a fake client holding objs, with the operator's scheme and the type
// converters server-side apply needs; the caller adds the status subresources and field
// indexes its reconciler uses, and builds it.
func fakeClient(objs ...client.Object) (*fake.ClientBuilder, *runtime.Scheme) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pbv1alpha1.AddToScheme(scheme))
	return fake.NewClientBuilder().
		WithScheme(scheme).
		WithObjects(objs...).
		WithTypeConverters(clientgoapply.NewTypeConverter(clientgoscheme.Scheme), pbapply.NewTypeConverter(scheme)), scheme
}

// drain returns the events the fake recorder holds, emptying it.
func drain(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// s3Fixture is the bucket of the backup and restore fixtures, with credsFixture's Secret.
func s3Fixture() pbv1alpha1.S3Destination {
	return pbv1alpha1.S3Destination{Endpoint: "http://s3:9000", Bucket: "bkt", CredentialsSecretRef: pbv1alpha1.SecretReference{Name: "creds"}}
}

// credsFixture is the S3 credentials Secret of s3Fixture.
func credsFixture() *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds"}, Data: map[string][]byte{
		contract.SecretKeyS3AccessKeyID: []byte("id"), contract.SecretKeyS3SecretAccessKey: []byte("secret"),
	}}
}
