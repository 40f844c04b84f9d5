/* filter.c - see filter.h. */
#include "base/filter.h"

static int set(const char *s) { return s && *s; }

int ds_filter_is_empty(const ds_filter *f)
{
    if (!f)
        return 1;
    return !set(f->loc_class) && !set(f->pub_date_from) && !set(f->pub_date_to) &&
           !set(f->filing_date_from) && !set(f->filing_date_to) && !set(f->applicant) &&
           !set(f->assignee) && !set(f->inventor) && !set(f->applicant_country) &&
           f->n_patent_ids == 0;
}
