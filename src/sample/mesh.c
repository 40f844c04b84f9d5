/* mesh.c - 3-D models as lists of triangles tagged with face ids.
 *
 * The renderer draws a line wherever the visible face id changes, so the
 * one modelling decision that matters is which triangles share an id: the
 * six sides of a box are six faces; a solid of revolution or a prism is one
 * face per run of facets that meet at less than 35 degrees (a bottle's
 * curved shoulder is one face, its flat base another). Facets of a curved
 * face keep their number (sub) so that shading lines can follow them.
 */
#include "sample/sample_internal.h"

#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265358979f
#define CREASE_COS 0.819f /* cos 35 degrees */

void sm_mesh_init(sm_mesh *m) { memset(m, 0, sizeof *m); }

void sm_mesh_reset(sm_mesh *m)
{
    m->n = 0;
    m->nid = 0;
    m->oom = 0;
}

void sm_mesh_free(sm_mesh *m)
{
    free(m->tri);
    free(m->mat);
    memset(m, 0, sizeof *m);
}

uint32_t sm_new_id(sm_mesh *m, int mat)
{
    if (m->nid >= SM_MAX_ID) {
        m->oom = 1;
        return 0;
    }
    if (m->nid + 2 > m->idcap) {
        uint32_t cap = m->idcap ? 2 * m->idcap : 256;
        uint8_t *p = realloc(m->mat, cap);
        if (!p) {
            m->oom = 1;
            return 0;
        }
        m->mat = p;
        m->idcap = cap;
    }
    m->nid++;
    m->mat[m->nid] = (uint8_t)mat;
    return m->nid;
}

static void add_tri(sm_mesh *m, const float a[3], const float b[3], const float c[3], uint32_t id,
                    int sub)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 4096;
        sm_tri *p = realloc(m->tri, cap * sizeof *p);
        if (!p) {
            m->oom = 1;
            return;
        }
        m->tri = p;
        m->cap = cap;
    }
    sm_tri *t = &m->tri[m->n++];
    memcpy(t->p[0], a, sizeof t->p[0]);
    memcpy(t->p[1], b, sizeof t->p[1]);
    memcpy(t->p[2], c, sizeof t->p[2]);
    t->id = id;
    t->sub = (uint16_t)sub;
}

static void add_quad(sm_mesh *m, const float a[3], const float b[3], const float c[3],
                     const float d[3], uint32_t id, int sub)
{
    add_tri(m, a, b, c, id, sub);
    add_tri(m, a, c, d, id, sub);
}

/* Turn the triangles [start, n) of one closed solid outward: the renderer
 * skips triangles facing away, which halves its work. Each builder winds
 * its triangles consistently; the sign of the enclosed volume says whether
 * that way is out or in. */
static void outward(sm_mesh *m, size_t start)
{
    if (m->n <= start)
        return;
    const float *o = m->tri[start].p[0];
    double vol = 0;
    for (size_t t = start; t < m->n; t++) {
        double a[3], b[3], c[3];
        for (int k = 0; k < 3; k++) {
            a[k] = m->tri[t].p[0][k] - o[k];
            b[k] = m->tri[t].p[1][k] - o[k];
            c[k] = m->tri[t].p[2][k] - o[k];
        }
        vol += a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
               a[2] * (b[0] * c[1] - b[1] * c[0]);
    }
    if (vol >= 0)
        return;
    for (size_t t = start; t < m->n; t++) {
        float tmp[3];
        memcpy(tmp, m->tri[t].p[1], sizeof tmp);
        memcpy(m->tri[t].p[1], m->tri[t].p[2], sizeof tmp);
        memcpy(m->tri[t].p[2], tmp, sizeof tmp);
    }
}

/* ---- placements ---------------------------------------------------------- */

sm_xf sm_at(float x, float y, float z)
{
    sm_xf xf = {{x, y, z}, {1, 0, 0, 0, 1, 0, 0, 0, 1}};
    return xf;
}

sm_xf sm_rot(sm_xf xf, int axis, float deg)
{
    float c = cosf(deg * PI_F / 180), s = sinf(deg * PI_F / 180), r[9];
    int i = (axis + 1) % 3, j = (axis + 2) % 3;
    memset(r, 0, sizeof r);
    r[axis * 3 + axis] = 1;
    r[i * 3 + i] = c;
    r[i * 3 + j] = -s;
    r[j * 3 + i] = s;
    r[j * 3 + j] = c;
    sm_xf out = xf;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            out.m[a * 3 + b] = xf.m[a * 3 + 0] * r[0 * 3 + b] + xf.m[a * 3 + 1] * r[1 * 3 + b] +
                               xf.m[a * 3 + 2] * r[2 * 3 + b];
    return out;
}

sm_xf sm_move(sm_xf xf, float x, float y, float z)
{
    for (int a = 0; a < 3; a++)
        xf.o[a] += xf.m[a * 3 + 0] * x + xf.m[a * 3 + 1] * y + xf.m[a * 3 + 2] * z;
    return xf;
}

static void place(const sm_xf *xf, float x, float y, float z, float out[3])
{
    for (int a = 0; a < 3; a++)
        out[a] = xf->o[a] + xf->m[a * 3 + 0] * x + xf->m[a * 3 + 1] * y + xf->m[a * 3 + 2] * z;
}

/* ---- solids -------------------------------------------------------------- */

uint32_t sm_box(sm_mesh *m, const sm_xf *xf, float sx, float sy, float sz)
{
    uint32_t first = m->nid + 1;
    size_t start = m->n;
    float v[8][3];
    for (int i = 0; i < 8; i++)
        place(xf, (i & 1 ? 0.5f : -0.5f) * sx, (i & 2 ? 0.5f : -0.5f) * sy,
              (i & 4 ? 0.5f : -0.5f) * sz, v[i]);
    /* The corners of each side, by bit: x = 1, y = 2, z = 4. */
    static const int faces[6][4] = {{0, 2, 6, 4}, {1, 5, 7, 3}, {0, 4, 5, 1},
                                    {2, 3, 7, 6}, {0, 1, 3, 2}, {4, 6, 7, 5}};
    for (int f = 0; f < 6; f++)
        add_quad(m, v[faces[f][0]], v[faces[f][1]], v[faces[f][2]], v[faces[f][3]],
                 sm_new_id(m, SM_PLAIN), 0);
    outward(m, start);
    return first;
}

void sm_set_mat(sm_mesh *m, uint32_t id, int mat)
{
    if (id >= 1 && id <= m->nid)
        m->mat[id] = (uint8_t)mat;
}

/* Whether the turn from direction (ax, ay) to (bx, by) is a corner. */
static int is_crease(float ax, float ay, float bx, float by)
{
    float la = sqrtf(ax * ax + ay * ay), lb = sqrtf(bx * bx + by * by);
    if (la <= 0 || lb <= 0)
        return 0;
    return (ax * bx + ay * by) / (la * lb) < CREASE_COS;
}

void sm_revolve(sm_mesh *m, const sm_xf *xf, const float (*rz)[2], int n, int segs)
{
    uint32_t id = 0;
    size_t start = m->n;
    for (int i = 0; i + 1 < n; i++) {
        float dr = rz[i + 1][0] - rz[i][0], dz = rz[i + 1][1] - rz[i][1];
        int flat = fabsf(dz) < 1e-6f;
        if (dr == 0 && dz == 0)
            continue;
        if (i == 0 || !id || flat ||
            is_crease(rz[i][0] - rz[i - 1][0], rz[i][1] - rz[i - 1][1], dr, dz))
            id = sm_new_id(m, flat ? SM_PLAIN : SM_SMOOTH);
        for (int j = 0; j < segs; j++) {
            float a0 = 2 * PI_F * j / segs, a1 = 2 * PI_F * (j + 1) / segs;
            float p[4][3];
            place(xf, rz[i][0] * cosf(a0), rz[i][0] * sinf(a0), rz[i][1], p[0]);
            place(xf, rz[i][0] * cosf(a1), rz[i][0] * sinf(a1), rz[i][1], p[1]);
            place(xf, rz[i + 1][0] * cosf(a1), rz[i + 1][0] * sinf(a1), rz[i + 1][1], p[2]);
            place(xf, rz[i + 1][0] * cosf(a0), rz[i + 1][0] * sinf(a0), rz[i + 1][1], p[3]);
            add_quad(m, p[0], p[1], p[2], p[3], id, j);
        }
        if (flat)
            id = 0; /* what follows a flat band is another face */
    }
    outward(m, start);
}

void sm_cylinder(sm_mesh *m, const sm_xf *xf, float r, float h, int segs)
{
    const float rz[4][2] = {{0, -h / 2}, {r, -h / 2}, {r, h / 2}, {0, h / 2}};
    sm_revolve(m, xf, rz, 4, segs);
}

void sm_extrude(sm_mesh *m, const sm_xf *xf, const float (*xy)[2], int n, float depth)
{
    if (n < 3)
        return;
    float cx = 0, cy = 0, c0[3], c1[3];
    for (int i = 0; i < n; i++)
        cx += xy[i][0] / n, cy += xy[i][1] / n;
    place(xf, cx, cy, -depth / 2, c0);
    place(xf, cx, cy, depth / 2, c1);
    uint32_t cap0 = sm_new_id(m, SM_PLAIN), cap1 = sm_new_id(m, SM_PLAIN);
    size_t first = m->n;
    /* Start the sides at a corner, so that a curved run is not split in two
     * by where the polygon happens to begin. */
    int start = 0;
    for (int i = 0; i < n; i++) {
        int p = (i + n - 1) % n, q = (i + 1) % n;
        if (is_crease(xy[i][0] - xy[p][0], xy[i][1] - xy[p][1], xy[q][0] - xy[i][0],
                      xy[q][1] - xy[i][1])) {
            start = i;
            break;
        }
    }
    uint32_t id = 0;
    int sub = 0;
    for (int k = 0; k < n; k++) {
        int i = (start + k) % n, j = (i + 1) % n, p = (i + n - 1) % n;
        float a0[3], a1[3], b0[3], b1[3];
        place(xf, xy[i][0], xy[i][1], -depth / 2, a0);
        place(xf, xy[j][0], xy[j][1], -depth / 2, b0);
        place(xf, xy[i][0], xy[i][1], depth / 2, a1);
        place(xf, xy[j][0], xy[j][1], depth / 2, b1);
        add_tri(m, c0, b0, a0, cap0, 0);
        add_tri(m, c1, a1, b1, cap1, 0);
        if (!id || is_crease(xy[i][0] - xy[p][0], xy[i][1] - xy[p][1], xy[j][0] - xy[i][0],
                             xy[j][1] - xy[i][1])) {
            /* A run of several edges is curved (smooth); one edge is flat. */
            int next = (j + 1) % n, curved = !is_crease(
                                        xy[j][0] - xy[i][0], xy[j][1] - xy[i][1],
                                        xy[next][0] - xy[j][0], xy[next][1] - xy[j][1]);
            id = sm_new_id(m, curved ? SM_SMOOTH : SM_PLAIN);
            sub = 0;
        }
        add_quad(m, a0, b0, b1, a1, id, sub++);
    }
    outward(m, first);
}

static void normalize(float v[3])
{
    float l = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (l > 0)
        v[0] /= l, v[1] /= l, v[2] /= l;
}

/* The ring of `segs` points of radius r about path point i, in a frame
 * carried along the path without twisting. */
static void tube_ring(const float (*path)[3], int n, int i, float u[3], float r, int segs,
                      float (*ring)[3])
{
    float t[3];
    const float *a = path[i > 0 ? i - 1 : i], *b = path[i + 1 < n ? i + 1 : i];
    for (int k = 0; k < 3; k++)
        t[k] = b[k] - a[k];
    normalize(t);
    /* Keep u perpendicular to the tangent: remove its component along t. */
    float d = u[0] * t[0] + u[1] * t[1] + u[2] * t[2];
    for (int k = 0; k < 3; k++)
        u[k] -= d * t[k];
    normalize(u);
    float w[3] = {t[1] * u[2] - t[2] * u[1], t[2] * u[0] - t[0] * u[2],
                  t[0] * u[1] - t[1] * u[0]};
    for (int j = 0; j < segs; j++) {
        float c = cosf(2 * PI_F * j / segs), s = sinf(2 * PI_F * j / segs);
        for (int k = 0; k < 3; k++)
            ring[j][k] = path[i][k] + r * (c * u[k] + s * w[k]);
    }
}

#define TUBE_MAX_SEGS 64

void sm_tube(sm_mesh *m, const float (*path)[3], int n, float radius, int segs)
{
    if (n < 2)
        return;
    segs = segs > TUBE_MAX_SEGS ? TUBE_MAX_SEGS : segs < 3 ? 3 : segs;
    float prev[TUBE_MAX_SEGS][3], cur[TUBE_MAX_SEGS][3];
    /* A start vector not parallel to the first segment. */
    float u[3] = {0, 0, 1}, d[3];
    for (int k = 0; k < 3; k++)
        d[k] = path[1][k] - path[0][k];
    normalize(d);
    if (fabsf(d[2]) > 0.9f)
        u[0] = 1, u[2] = 0;
    uint32_t side = sm_new_id(m, SM_SMOOTH), cap0 = sm_new_id(m, SM_PLAIN),
             cap1 = sm_new_id(m, SM_PLAIN);
    size_t start = m->n;
    tube_ring(path, n, 0, u, radius, segs, prev);
    for (int j = 0; j < segs; j++)
        add_tri(m, path[0], prev[(j + 1) % segs], prev[j], cap0, 0);
    for (int i = 1; i < n; i++) {
        tube_ring(path, n, i, u, radius, segs, cur);
        for (int j = 0; j < segs; j++)
            add_quad(m, prev[j], prev[(j + 1) % segs], cur[(j + 1) % segs], cur[j], side, j);
        memcpy(prev, cur, sizeof prev);
    }
    for (int j = 0; j < segs; j++)
        add_tri(m, path[n - 1], prev[j], prev[(j + 1) % segs], cap1, 0);
    outward(m, start);
}
