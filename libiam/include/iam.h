/*
 * iam.h - the public interface of libiam, the shared core of iam for Linux
 * hosts: identity model, JSON loading, configuration, policy engine,
 * passwords, TOTP, runtime state, snapshots, the audit trail and the store.
 *
 * Invariants that hold for every function declared under iam/:
 *
 *  - Functions return int: 0 on success, a negative errno on failure.
 *    -ENOENT means "no such entry", -ERANGE only "buffer too small",
 *    -EDOM "a number outside its allowed range"; anything else means
 *    the backend is broken (a front end must fail closed).
 *  - Output parameters are named ret_*; they are set only on success and
 *    never touched on failure.
 *  - A non-const pointer handed back belongs to the caller; the comment of
 *    the function names its destructor.  Every iam_*_free(NULL) does
 *    nothing and returns NULL, so "p = iam_x_free(p);" is always safe.
 *  - A const pointer handed back is borrowed from its owner and lives as
 *    long as that owner.
 *  - libiam never logs.  It reports through return codes and, where a
 *    human needs the detail, through a struct iam_faults or an error
 *    buffer supplied by the caller.
 *  - Secrets (passwords, TOTP secrets and codes) are wiped with
 *    iam_wipe() before their memory is released, on every path.
 */
#ifndef IAM_H
#define IAM_H

#include "iam/util.h"
#include "iam/json.h"
#include "iam/config.h"
#include "iam/policy.h"
#include "iam/identity.h"
#include "iam/store.h"
#include "iam/atomic.h"
#include "iam/creds.h"
#include "iam/publish.h"
#include "iam/nssdb_write.h"
#include "iam/authdb.h"
#include "iam/password.h"
#include "iam/totp.h"
#include "iam/state.h"
#include "iam/session.h"
#include "iam/audit.h"
#include "iam/decide.h"
#include "iam/keysdb.h"
#include "iam/rolesdb.h"
#include "iam/roles.h"
#include "iam/role_session.h"
#include "iam/pwpolicy.h"
#include "iam/generation.h"
#include "iam/who.h"
#include "iam/snapshot.h"
#include "iam/auth.h"

#endif
