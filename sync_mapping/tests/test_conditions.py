from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import MappingCase


@tagged("post_install", "-at_install")
class TestConditions(MappingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.fr = cls.env.ref("base.fr")
        cls.p1 = Partner.create({"name": "Cond A", "is_company": True, "country_id": cls.belgium.id, "color": 1})
        cls.p2 = Partner.create({"name": "Cond B", "is_company": True, "country_id": cls.fr.id, "color": 2})
        cls.p3 = Partner.create({"name": "Cond C", "is_company": False, "country_id": cls.fr.id, "color": 3})
        cls.p4 = Partner.create({"name": "Cond D", "is_company": False, "color": 4})
        cls.all = cls.p1 | cls.p2 | cls.p3 | cls.p4

    def _match(self, conditions, domain="[]"):
        self.contact_type.write({
            "domain": domain,
            "condition_ids": [(5, 0, 0)] + [(0, 0, dict(zip(("field_name", "operator", "value"), c, strict=True)))
                                             for c in conditions],
        })
        return self.contact_type._filter_matching(self.all)

    def test_operators(self):
        self.assertEqual(self._match([("is_company", "=", "true")]), self.p1 | self.p2)
        self.assertEqual(self._match([("is_company", "!=", "true")]), self.p3 | self.p4)
        self.assertEqual(self._match([("color", "in", "1, 3")]), self.p1 | self.p3)
        self.assertEqual(self._match([("color", "not in", "1,3")]), self.p2 | self.p4)
        self.assertEqual(self._match([("country_id", "=", str(self.fr.id))]), self.p2 | self.p3)
        self.assertEqual(self._match([("country_id", "=", "")]), self.p4)
        self.assertEqual(self._match([("name", "in", "Cond A,Cond D")]), self.p1 | self.p4)

    def test_conditions_and_domain_all_hold(self):
        matched = self._match([("is_company", "=", "1")], domain=f"[('country_id', '=', {self.fr.id})]")
        self.assertEqual(matched, self.p2)

    def test_bad_conditions_and_domains_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "'nope' is not a searchable field"):
            self._match([("nope", "=", "1")])
        with self.assertRaisesRegex(ValidationError, "'abc' is not a number"):
            self._match([("color", "=", "abc")])
        with self.assertRaisesRegex(ValidationError, "domain of Contacts is invalid"):
            self._match([], domain="[('nope', '=', 1)]")
