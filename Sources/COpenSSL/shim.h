#ifndef AMANAT_COPENSSL_SHIM_H
#define AMANAT_COPENSSL_SHIM_H

#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Function-like macros and macro constants are invisible or awkward in Swift; wrap the few we need. */
static inline void amanat_openssl_free(void *p) { OPENSSL_free(p); }
static inline int amanat_pkey_ed25519(void) { return EVP_PKEY_ED25519; }
static inline int amanat_pkey_x25519(void) { return EVP_PKEY_X25519; }
static inline long amanat_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
static inline int amanat_aead_get_tag(void) { return EVP_CTRL_AEAD_GET_TAG; }
static inline int amanat_aead_set_tag(void) { return EVP_CTRL_AEAD_SET_TAG; }
static inline int amanat_aead_set_ivlen(void) { return EVP_CTRL_AEAD_SET_IVLEN; }
static inline unsigned long amanat_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }

#endif
