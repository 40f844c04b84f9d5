/* test_fuzz.c - replay every fuzz target's corpus (fuzz/corpus/<target>/)
 * through its replay binary, built by the Makefile with the same compiler
 * and sanitizers as the tests. A crash or sanitizer report fails the test. */
#include <dirent.h>
#include <stdlib.h>

#include "../suites.h"

static void replay(const char *target)
{
    const char *build = getenv("DINOSEEK_BUILD");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/fuzz/%s_replay fuzz/corpus/%s", build ? build : "build", target,
             target);
    char *out = NULL, *err = NULL;
    int status = ds_test_run(cmd, &out, &err);
    CHECKF(status == 0, "%s exited %d:\n%s", cmd, status, err ? err : "");
    CHECKF(out && strstr(out, "replayed"), "%s", out ? out : "");
    if (out && status == 0)
        fprintf(stderr, "    %s", out);
    free(out);
    free(err);
}

static void test_st_corpus(void) { replay("st_fuzzer"); }
static void test_img_corpus(void) { replay("img_fuzzer"); }
static void test_form_corpus(void) { replay("form_fuzzer"); }
static void test_blob_name_corpus(void) { replay("blob_name_fuzzer"); }
static void test_arc_corpus(void) { replay("arc_fuzzer"); }
static void test_xml_corpus(void) { replay("xml_fuzzer"); }
static void test_index_corpus(void) { replay("index_fuzzer"); }
static void test_s3_xml_corpus(void) { replay("s3_xml_fuzzer"); }
static void test_milvus_corpus(void) { replay("milvus_fuzzer"); }
static void test_expr_corpus(void) { replay("expr_fuzzer"); }
static void test_conf_corpus(void) { replay("conf_fuzzer"); }
static void test_query_corpus(void) { replay("query_fuzzer"); }

const ds_test fuzz_tests[] = {
    {"safetensors fuzz corpus replays cleanly", test_st_corpus},
    {"image fuzz corpus replays cleanly", test_img_corpus},
    {"HTTP form fuzz corpus replays cleanly", test_form_corpus},
    {"blob key fuzz corpus replays cleanly", test_blob_name_corpus},
    {"archive fuzz corpus replays cleanly", test_arc_corpus},
    {"USPTO grant XML fuzz corpus replays cleanly", test_xml_corpus},
    {"index file fuzz corpus replays cleanly", test_index_corpus},
    {"S3 XML answer fuzz corpus replays cleanly", test_s3_xml_corpus},
    {"Milvus REST answer fuzz corpus replays cleanly", test_milvus_corpus},
    {"Milvus filter expression fuzz corpus replays cleanly", test_expr_corpus},
    {"configuration file fuzz corpus replays cleanly", test_conf_corpus},
    {"search-by-words query fuzz corpus replays cleanly", test_query_corpus},
    {0},
};
