/*
 * fuzz_glob.c - libFuzzer target: the linear wildcard matcher agrees
 * with a dynamic-programming reference on any pattern and subject.
 * Input: pattern, a NUL byte, subject; the first byte picks the flags.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "policy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char
low(unsigned char c, bool nocase)
{
	return nocase ? (unsigned char)tolower(c) : c;
}

static bool
reference(const uint8_t *p, size_t pl, const uint8_t *s, size_t sl, bool nocase)
{
	static bool row[4097], nrow[4097];

	row[0] = true;
	for (size_t i = 1; i <= sl; i++)
		row[i] = false;
	for (size_t j = 0; j < pl; j++) {
		nrow[0] = row[0] && p[j] == '*';
		for (size_t i = 1; i <= sl; i++) {
			if (p[j] == '*')
				nrow[i] = row[i] || nrow[i - 1];
			else
				nrow[i] = row[i - 1] && (p[j] == '?' ||
					  low(p[j], nocase) == low(s[i - 1], nocase));
		}
		memcpy(row, nrow, (sl + 1) * sizeof(bool));
	}
	return row[sl];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	size_t pl, sl;
	bool nocase;

	if (size < 1)
		return 0;
	nocase = data[0] & 1;
	data++;
	size--;
	nul = memchr(data, 0, size);
	if (nul == NULL)
		return 0;
	pl = (size_t)(nul - data);
	sl = size - pl - 1;
	if (sl > 4096 || pl > 4096)
		return 0;
	if (iam_glob_match((const char *)data, pl, (const char *)nul + 1, sl,
			   nocase ? IAM_GLOB_NOCASE : 0) !=
	    reference(data, pl, nul + 1, sl, nocase))
		abort();
	return 0;
}
