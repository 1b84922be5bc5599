/*
 * iam/keys.h - the former name of iam/keysdb.h (the public SSH key
 * snapshot keys.db), kept for the programs that include it.
 */
#ifndef IAM_KEYS_H
#define IAM_KEYS_H

#include "iam/keysdb.h"

#endif
