/* text.c - a sample patent's catalog fields without its XML or drawings
 * (see sample.h, sample_patent_text): what benchmarks of search by words
 * need at a million patents, where writing the documents would take hours. */
#include "sample/sample_internal.h"

#include <stdio.h>
#include <string.h>

static void person_name(const sample_person *who, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s", who->first, who->last);
}

void sample_patent_text(const sample_opts *o, int index, sample_text *out)
{
    sample_patent p;
    char article[160], name[96];
    sp_patent_make(o, index, &p);
    const sample_family *fam = &sample_families[p.family];
    const char *title = fam->variants[p.variant].title;
    snprintf(out->patent_id, sizeof out->patent_id, "%s", p.doc);
    snprintf(out->title, sizeof out->title, "%s", title);
    sp_article(title, article, sizeof article);
    snprintf(out->claim, sizeof out->claim,
             "The ornamental design for %s, as shown and described.", article);
    /* As an import reads the XML (src/uspto/grant.c): the first applicant
     * (the company, else the first inventor), the assignee when a company
     * applied, and every inventor once. */
    person_name(&p.inventors[0], name, sizeof name);
    snprintf(out->applicant, sizeof out->applicant, "%s", p.org_applicant ? p.org : name);
    snprintf(out->assignee, sizeof out->assignee, "%s", p.org_applicant ? p.org : "");
    out->inventors[0] = '\0';
    for (int i = 0; i < p.ninventors; i++) {
        size_t used = strlen(out->inventors);
        person_name(&p.inventors[i], name, sizeof name);
        snprintf(out->inventors + used, sizeof out->inventors - used, "%s%s", i ? ", " : "",
                 name);
    }
    snprintf(out->loc_class, sizeof out->loc_class, "%.2s-%.2s", fam->locarno,
             fam->locarno + 2);
}
