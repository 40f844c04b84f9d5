/* filter.c - see filter.h. */
#include "base/filter.h"

static int set(const char *s) { return s && *s; }

static int digit(char c) { return c >= '0' && c <= '9'; }

int ds_loc_class_valid(const char *s)
{
    return s && digit(s[0]) && digit(s[1]) &&
           (s[2] == '\0' || (s[2] == '-' && digit(s[3]) && digit(s[4]) && s[5] == '\0'));
}

int ds_filter_is_empty(const ds_filter *f)
{
    if (!f)
        return 1;
    return !set(f->loc_class) && !set(f->pub_date_from) && !set(f->pub_date_to) &&
           !set(f->filing_date_from) && !set(f->filing_date_to) && !set(f->applicant) &&
           !set(f->assignee) && !set(f->inventor) && !set(f->applicant_country) &&
           f->n_patent_ids == 0;
}
