/* suites.h - every test suite, one line each. Add yours here and in run.c. */
#ifndef DS_SUITES_H
#define DS_SUITES_H
#include "test.h"

extern const ds_test base_tests[];
extern const ds_test safetensors_tests[];
extern const ds_test vit_tests[];
extern const ds_test precision_tests[];
extern const ds_test parity_tests[];
extern const ds_test image_tests[];
extern const ds_test fetch_tests[];
extern const ds_test cli_tests[];
extern const ds_test fuzz_tests[];
extern const ds_test index_tests[];
extern const ds_test store_tests[];
extern const ds_test catalog_tests[];
extern const ds_test blob_tests[];
extern const ds_test s3_tests[];
extern const ds_test milvus_tests[];
extern const ds_test milvus_v2_tests[];
extern const ds_test http_tests[];
extern const ds_test api_tests[];
extern const ds_test uspto_tests[];
extern const ds_test arc_tests[];
extern const ds_test sample_tests[];
extern const ds_test content_tests[];
extern const ds_test import_tests[];
extern const ds_test browser_tests[];
extern const ds_test security_tests[];
extern const ds_test peers_tests[];
extern const ds_test peers_victim_tests[];
extern const ds_test multiproc_tests[];
extern const ds_test fusion_tests[];
extern const ds_test text_tests[];
extern const ds_test words_tests[];
extern const ds_test multi_tests[];

#endif
