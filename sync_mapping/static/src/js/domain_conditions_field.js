import { registry } from "@web/core/registry";
import { Domain } from "@web/core/domain";
import { DomainField, domainField } from "@web/views/fields/domain/domain_field";

/**
 * The domain of a data type, whose record count (and "show matching records")
 * includes the data type's conditions: records are sent when they match both.
 * The conditions come as a JSON domain from the field named by the option
 * ``conditions``; the domain saved is the domain alone.
 */
export class SyncDomainConditionsField extends DomainField {
    static props = {
        ...DomainField.props,
        conditionsField: { type: String, optional: true },
    };

    getEvaluatedDomain(props = this.props) {
        const domain = super.getEvaluatedDomain(props);
        const conditions = props.conditionsField && props.record.data[props.conditionsField];
        if (domain.isInvalid || !conditions) {
            return domain;
        }
        try {
            return Domain.and([JSON.parse(conditions), domain]).toList();
        } catch {
            return { isInvalid: true };
        }
    }
}

registry.category("fields").add("sync_domain_conditions", {
    ...domainField,
    component: SyncDomainConditionsField,
    extractProps(fieldInfo, dynamicInfo) {
        return {
            ...domainField.extractProps(fieldInfo, dynamicInfo),
            conditionsField: fieldInfo.options.conditions,
        };
    },
});
