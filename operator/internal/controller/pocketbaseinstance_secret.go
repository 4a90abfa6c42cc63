package controller

import (
	"context"
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// passwordLength is the length of generated superuser passwords: 32 characters of a
// 62-letter alphabet, about 190 bits.
const passwordLength = 32

const passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// reconcileSuperuserSecret makes sure the superuser Secret exists. A generated Secret is
// created once and never rewritten, so the password handed out stays valid; a Secret
// named in the spec is only read and checked.
func (r *PocketBaseInstanceReconciler) reconcileSuperuserSecret(ctx context.Context, p *pass) error {
	pbi := p.pbi
	key := types.NamespacedName{Namespace: pbi.Namespace, Name: pbi.SuperuserSecretName()}
	secret := &corev1.Secret{}

	if !pbi.GeneratesSuperuserSecret() {
		// note: users' Secrets are not in the cache (it holds only labelled children).
		err := r.APIReader.Get(ctx, key, secret)
		switch {
		case apierrors.IsNotFound(err):
			p.fail(pbv1alpha1.ReasonSecretInvalid, "Secret %s named in spec.superuser.secretName does not exist.", key.Name)
			return errBlocked
		case err != nil:
			return fmt.Errorf("getting superuser secret: %w", err)
		case len(secret.Data[contract.SecretKeyPassword]) < minPasswordLength:
			p.fail(pbv1alpha1.ReasonSecretInvalid, "Secret %s must hold a %q key of at least %d characters.",
				key.Name, contract.SecretKeyPassword, minPasswordLength)
			return errBlocked
		}
		p.secretVersion = secret.ResourceVersion
		if len(secret.Data[contract.SecretKeyEmail]) > 0 {
			p.superuserEmail = specs.SuperuserEmail{FromSecret: true}
		} else {
			p.superuserEmail = specs.SuperuserEmail{Value: pbi.Spec.Superuser.Email}
		}
		return nil
	}

	p.superuserEmail = specs.SuperuserEmail{FromSecret: true}
	err := r.Get(ctx, key, secret)
	if err == nil {
		p.secretVersion = secret.ResourceVersion
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("getting superuser secret: %w", err)
	}
	password := generatePassword()
	created := &corev1.Secret{}
	if _, _, err := r.applyChild(ctx, specs.SuperuserSecret(pbi, password), created); err != nil {
		return fmt.Errorf("creating superuser secret: %w", err)
	}
	p.secretVersion = created.ResourceVersion
	p.record(corev1.EventTypeNormal, "SuperuserSecretCreated", "Create",
		"Generated superuser Secret %s for %s.", key.Name, pbi.Spec.Superuser.Email)
	return nil
}

// minPasswordLength is PocketBase's minimum superuser password length.
const minPasswordLength = 8

// generatePassword returns a random password from crypto/rand in which every letter of
// the alphabet is equally likely (rejection sampling: 248 is the largest multiple of 62
// that fits a byte).
func generatePassword() string {
	out := make([]byte, 0, passwordLength)
	buf := make([]byte, 2*passwordLength)
	for len(out) < passwordLength {
		// note: crypto/rand.Read never returns an error since Go 1.24.
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if b < 248 && len(out) < passwordLength {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
