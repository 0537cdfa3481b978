//! A value of a generic type seen as a concrete one when they are the same type: how code
//! generic over the backend reaches a backend-specific path (the fused CPU kernels, the
//! CubeCL backends' attention) without specialisation.

use std::any::Any;

/// `value` as a `T` when `A` is `T`, else `value` back.
pub fn same_type<A: 'static, T: 'static>(value: A) -> Result<T, A> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<T>>() {
        Some(as_t) => Ok(as_t.take().expect("slot was filled above")),
        None => Err(slot.expect("slot is untouched when the types differ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_comes_through_as_its_own_type_and_back_otherwise() {
        assert_eq!(same_type::<u32, u32>(7), Ok(7));
        assert_eq!(same_type::<u32, i64>(7), Err(7));
    }
}
