/* patent.c - patents shared by the items of their drawings, and items. */
#include "importer/importer_internal.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

imp_patent *imp_patent_from_grant(const us_grant *g)
{
    imp_patent *p = calloc(1, sizeof *p);
    if (!p || !g->patent_id || !(p->p.patent_id = strdup(g->patent_id))) {
        free(p);
        return NULL;
    }
    /* strdup(NULL) is never called: absent fields stay NULL (SQL NULL). */
    p->p.kind = dup_or_null(g->kind);
    p->p.title = dup_or_null(g->title);
    p->p.loc_class = dup_or_null(g->loc_class);
    p->p.loc_edition = dup_or_null(g->loc_edition);
    p->p.pub_date = dup_or_null(g->pub_date);
    p->p.filing_date = dup_or_null(g->filing_date);
    p->p.grant_term = g->grant_term;
    p->p.applicant_name = dup_or_null(g->applicant_name);
    p->p.applicant_country = dup_or_null(g->applicant_country);
    p->p.inventor_names = dup_or_null(g->inventor_names);
    p->p.assignee_name = dup_or_null(g->assignee_name);
    p->p.claim_text = dup_or_null(g->claim_text);
    p->p.image_count = g->n_figures;
    atomic_init(&p->refs, 1);
    return p;
}

imp_patent *imp_patent_ref(imp_patent *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void imp_patent_unref(imp_patent *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
        cat_patent_clear(&p->p);
        free(p);
    }
}

void imp_item_free(imp_item *it)
{
    if (!it)
        return;
    imp_patent_unref(it->patent);
    free(it->patent_id);
    free(it->file_name);
    free(it->origin);
    free(it->data);
    eng_prepared_clear(&it->prep);
    free(it);
}
