# Reference numbers for tests/evidence/test_meta_metafor_conventions.py.
# Produced with Debian's r-cran-metafor 3.8-1 (R 4.2.2):  Rscript metafor_conventions.R > metafor_conventions.out
suppressMessages(library(metafor))
num <- function(x) paste(sprintf("%.10g", x), collapse=",")
# 1. Mantel-Haenszel with double-zero studies (studies 1 and 4 have no events in either group):
#    drop00 = TRUE (default) leaves them out of Q/I2/H2, drop00 = FALSE keeps them.
ai <- c(0, 3, 5, 0, 8); bi <- c(20, 17, 25, 15, 22); ci <- c(0, 6, 9, 0, 12); di <- c(20, 14, 21, 16, 18)
cat("mh_ai=", num(ai), "\nmh_bi=", num(bi), "\nmh_ci=", num(ci), "\nmh_di=", num(di), "\n", sep="")
for (m in c("OR", "RR", "RD")) for (d00 in c(TRUE, FALSE)) {
  r <- rma.mh(ai=ai, bi=bi, ci=ci, di=di, measure=m, drop00=d00)
  cat(sprintf("mh|%s|%s|k=%d|kyi=%d|est=%.10f|se=%.10f|QE=%.10f|QEp=%.10g|I2=%.10f|H2=%.10f\n",
      m, d00, r$k, r$k.yi, r$b[1], r$se, r$QE, r$QEp, r$I2, r$H2))
}
# 2. Effect measures added for continuous and rate outcomes
e <- escalc("MC", m1i=3.2, m2i=12.2, sd1i=3.3, sd2i=2.8, ni=12, ri=0.5)
cat(sprintf("es|MC|yi=%.10f|vi=%.10f\n", e$yi, e$vi))
e <- escalc("SMCR", m1i=3.2, m2i=12.2, sd1i=3.3, ni=12, ri=0.5)
cat(sprintf("es|SMCR|yi=%.10f|vi=%.10f\n", e$yi, e$vi))
e <- escalc("IRLN", xi=c(0, 2, 13), ti=c(10, 20, 405))
cat(sprintf("es|IRLN|yi=%s|vi=%s\n", num(e$yi), num(e$vi)))
e <- escalc("IR", xi=c(0, 2, 13), ti=c(10, 20, 405))
cat(sprintf("es|IR|yi=%s|vi=%s\n", num(e$yi), num(e$vi)))
# 3. Zhou 2020's serum creatinine at 6 months: Deng 2017 alone, MSC 63 (18) n=12 vs placebo 59 (9) n=6
r <- rma(measure="MD", m1i=63, sd1i=18, n1i=12, m2i=59, sd2i=9, n2i=6, method="EE")
cat(sprintf("zhou_md|est=%.10f|ci_lb=%.10f|ci_ub=%.10f\n", r$b[1], r$ci.lb, r$ci.ub))
r <- rma(measure="SMD", m1i=63, sd1i=18, n1i=12, m2i=59, sd2i=9, n2i=6, method="EE")
cat(sprintf("zhou_smd|est=%.10f|ci_lb=%.10f|ci_ub=%.10f\n", r$b[1], r$ci.lb, r$ci.ub))
