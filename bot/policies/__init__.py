"""Policies (惠企政策): validity dates, eligibility conditions and matching enterprise profiles."""
