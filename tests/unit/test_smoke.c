/*
 * test_smoke.c - every module loads with RTLD_NOW (no unresolved symbol)
 * and exposes the entry points its host program looks for.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include <criterion/criterion.h>

static void *
load(const char *file)
{
	void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);

	cr_assert_not_null(h, "dlopen %s: %s", file, dlerror());
	return h;
}

Test(smoke, pam_module_loads_with_every_phase)
{
	void *h = load(BUILD_DIR "/pam_iam.so");
	const char *syms[] = { "pam_sm_authenticate", "pam_sm_setcred",
			       "pam_sm_acct_mgmt", "pam_sm_open_session",
			       "pam_sm_close_session", "pam_sm_chauthtok" };

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		cr_expect_not_null(dlsym(h, syms[i]), "%s missing", syms[i]);
	dlclose(h);
}

Test(smoke, nss_module_loads)
{
	void *h = load(BUILD_DIR "/libnss_iam.so.2");

	cr_expect_not_null(dlsym(h, "_nss_iam_getpwnam_r"));
	dlclose(h);
}

Test(smoke, sudo_plugin_loads_with_its_struct)
{
	void *h = load(BUILD_DIR "/sudo_iam.so");

	cr_expect_not_null(dlsym(h, "sudo_iam"));
	dlclose(h);
}

Test(smoke, libiam_loads)
{
	void *h = load(BUILD_DIR "/libiam.so.1");

	cr_expect_not_null(dlsym(h, "iam_json_parse"));
	cr_expect_null(dlsym(h, "arena_alloc"), "internal symbol exported");
	dlclose(h);
}
