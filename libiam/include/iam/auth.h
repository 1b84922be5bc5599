/*
 * iam/auth.h - what an authentication needs, in one include: the private
 * snapshot auth/auth.db (iam/authdb.h), password hashes (iam/password.h),
 * one-time codes (iam/totp.h), the runtime state per uid and the lockout
 * (iam/state.h) and the per login session records (iam/session.h).
 */
#ifndef IAM_AUTH_H
#define IAM_AUTH_H

#include "iam/authdb.h"
#include "iam/password.h"
#include "iam/totp.h"
#include "iam/state.h"
#include "iam/session.h"

#endif
