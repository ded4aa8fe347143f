// Embedded Runge-Kutta-Fehlberg 4(5) with adaptive step size, per neuron: what NEST's GSL models
// (aeif_cond_*, hh_cond_exp_traub, ...) do with gsl_odeiv_step_rkf45, the standard step-size control
// (gsl_odeiv_control_standard: yp or y) and gsl_odeiv_evolve_apply, reproduced operation by operation (in double
// precision without fused multiply-adds the same numbers as GSL 2.7 to the last bit: tests/kernels/test_rkf45.py):
// - a step of h from y: six stages (Fehlberg's coefficients), the fifth-order solution kept, the difference of the
//   fourth- and fifth-order solutions as the error estimate, the derivative at the end evaluated for the control;
// - the control: r = max_i |err_i| / (eps_abs_i + eps_rel (a_y |y_i| + a_dydt h |y'_i|)); r > 1.1: h shrinks to
//   max(0.9 r^(-1/5), 1/5) h and the step is retried; r < 0.5: the next h grows to min(max(0.9 r^(-1/6), 1), 5) h
//   (the factor computed first, then times h, as GSL 2's cstd.c: h times the factor's parts rounds differently);
// - one evolve call: one accepted step from t towards t1 (the last one clipped to t1), the next step's h kept
//   by the caller across calls and time steps (NEST's IntegrationStep_, one per neuron).
// The right-hand side is the model's: a System with `MEMBER void rhs(const REAL* y, REAL* f) const` (autonomous
// within a time step, as NEST's dynamics ignore t). eps_abs is per component (NEST's models use one value for all;
// a model keeping a component in other units than NEST's would scale it).
// Bounded work: a neuron gets RKF45_MAX_TRIES step attempts per time step (NEST has no bound); past them the rest
// of the time step is taken in one step accepted whatever its error, and the caller counts the overrun.
#pragma once
#include "common.cuh"

#define RKF45_MAX_TRIES 10000

template <int N> struct Rkf45Control {
    REAL eps_abs[N];                 // absolute tolerance of each component, in the state's units
    REAL eps_rel, a_y, a_dydt;       // NEST: yp control (eps_rel = eps_abs, 0, 1) or y control (.., 1, 0)
};

// One Fehlberg step of h from y (in place), k1 = f(y) given; yerr the error estimate, yp = f(y_new).
template <int N, class System>
DEVICE void rkf45_step(const System& sys, REAL h, REAL* y, const REAL* k1, REAL* yerr, REAL* yp) {
    REAL k2[N], k3[N], k4[N], k5[N], k6[N], tmp[N];
    for (int i = 0; i < N; ++i) tmp[i] = y[i] + (REAL)(1.0 / 4.0) * h * k1[i];
    sys.rhs(tmp, k2);
    for (int i = 0; i < N; ++i) tmp[i] = y[i] + h * ((REAL)(3.0 / 32.0) * k1[i] + (REAL)(9.0 / 32.0) * k2[i]);
    sys.rhs(tmp, k3);
    for (int i = 0; i < N; ++i)
        tmp[i] = y[i] + h * ((REAL)(1932.0 / 2197.0) * k1[i] + (REAL)(-7200.0 / 2197.0) * k2[i]
                             + (REAL)(7296.0 / 2197.0) * k3[i]);
    sys.rhs(tmp, k4);
    for (int i = 0; i < N; ++i)
        tmp[i] = y[i] + h * ((REAL)(8341.0 / 4104.0) * k1[i] + (REAL)(-32832.0 / 4104.0) * k2[i]
                             + (REAL)(29440.0 / 4104.0) * k3[i] + (REAL)(-845.0 / 4104.0) * k4[i]);
    sys.rhs(tmp, k5);
    for (int i = 0; i < N; ++i)
        tmp[i] = y[i] + h * ((REAL)(-6080.0 / 20520.0) * k1[i] + (REAL)(41040.0 / 20520.0) * k2[i]
                             + (REAL)(-28352.0 / 20520.0) * k3[i] + (REAL)(9295.0 / 20520.0) * k4[i]
                             + (REAL)(-5643.0 / 20520.0) * k5[i]);
    sys.rhs(tmp, k6);
    for (int i = 0; i < N; ++i) {
        const REAL d = (REAL)(902880.0 / 7618050.0) * k1[i] + (REAL)(3953664.0 / 7618050.0) * k3[i]
                     + (REAL)(3855735.0 / 7618050.0) * k4[i] + (REAL)(-1371249.0 / 7618050.0) * k5[i]
                     + (REAL)(277020.0 / 7618050.0) * k6[i];
        y[i] += h * d;
    }
    sys.rhs(y, yp);
    for (int i = 0; i < N; ++i)
        yerr[i] = h * ((REAL)(1.0 / 360.0) * k1[i] + (REAL)(-128.0 / 4275.0) * k3[i]
                       + (REAL)(-2197.0 / 75240.0) * k4[i] + (REAL)(1.0 / 50.0) * k5[i]
                       + (REAL)(2.0 / 55.0) * k6[i]);
}

// The standard control's step adjustment (order 5): -1 decreased (retry), 0 unchanged, 1 increased.
template <int N>
DEVICE int rkf45_adjust(const Rkf45Control<N>& c, const REAL* y, const REAL* yerr, const REAL* yp, REAL* h) {
    const REAL h_old = fabs(*h);
    REAL rmax = 0;   // GSL starts from DBL_MIN: the same outcome (the growth is capped at 5 either way)
    for (int i = 0; i < N; ++i) {
        const REAL d0 = c.eps_rel * (c.a_y * fabs(y[i]) + c.a_dydt * h_old * fabs(yp[i])) + c.eps_abs[i];
        const REAL r = fabs(yerr[i]) / fabs(d0);
        rmax = r > rmax ? r : rmax;
    }
    if (rmax > (REAL)1.1) {   // shrink by 0.9 r^(-1/5), at most 5-fold
        REAL r = (REAL)0.9 / pow(rmax, (REAL)(1.0 / 5.0));
        if (r < (REAL)0.2) r = (REAL)0.2;
        *h = r * h_old;
        return -1;
    }
    if (rmax < (REAL)0.5) {   // grow by 0.9 r^(-1/6), at most 5-fold, never shrink
        REAL r = (REAL)0.9 / pow(rmax, (REAL)(1.0 / 6.0));
        if (r > (REAL)5) r = (REAL)5;
        if (r < (REAL)1) r = (REAL)1;
        *h = r * h_old;
        return 1;
    }
    return 0;
}

// gsl_odeiv_evolve_apply: one accepted step from *t towards t1, y in place, *h the next step's size; `tries`
// counts the attempts of this time step. Returns true when the attempts ran out and the rest of the interval was
// taken in one unchecked step (an overrun, for the caller to count).
template <int N, class System>
DEVICE bool rkf45_evolve(const System& sys, const Rkf45Control<N>& con, REAL* t, REAL t1, REAL* h, REAL* y,
                         int* tries) {
    const REAL t0 = *t, dt = t1 - t0;
    REAL h0 = *h, y0[N], k1[N], yerr[N], yp[N];
    for (int i = 0; i < N; ++i) y0[i] = y[i];
    sys.rhs(y, k1);
    for (;;) {
        const bool forced = *tries >= RKF45_MAX_TRIES;
        bool final_step = false;
        if (forced || h0 > dt) {
            h0 = dt;
            final_step = true;
        }
        ++*tries;
        rkf45_step<N>(sys, h0, y, k1, yerr, yp);
        *t = final_step ? t1 : t0 + h0;
        if (forced) {
            *h = h0;
            return true;
        }
        const REAL h_old = h0;
        if (rkf45_adjust<N>(con, y, yerr, yp, &h0) == -1) {
            if (fabs(h0) < fabs(h_old) && *t + h0 != *t) {
                for (int i = 0; i < N; ++i) y[i] = y0[i];
                continue;
            }
            h0 = h_old;
        }
        *h = h0;
        return false;
    }
}

// Models integrated in NEST's units (to take NEST's steps and round as NEST) keep a state variable twice: in
// PyNN's units (`pynn`: what is recorded and what initialize() writes) and in NEST's (`nest`, between steps, so
// that it does not round-trip through PyNN's units every step). The NEST copy is used unless the PyNN value was
// changed from the host since the last step (then it no longer equals the NEST copy converted).
DEVICE REAL nest_units_load(REAL pynn, REAL nest, REAL per_pynn_unit) {
    return pynn == nest / per_pynn_unit ? nest : pynn * per_pynn_unit;
}
DEVICE void nest_units_store(REAL* pynn, REAL* nest, REAL value, REAL per_pynn_unit) {
    *nest = value;
    *pynn = value / per_pynn_unit;
}
